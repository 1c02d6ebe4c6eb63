"""One customer's margin and lifetime value: the per-request path equals the frame path."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.scoring.value import MarginSpec, ValueModel

MODEL = ValueModel(
    margin=MarginSpec(
        premium="annual_premium",
        claims_cost="expected_claims_cost",
        cost_to_serve="cost_to_serve",
        proposed_premium="proposed_premium",
    ),
    horizon_years=5,
    discount_rate=0.08,
    curves={"*": (0.7, 1.2), "vip": (0.67, 3.8)},
    segment="segment",
    tenure="tenure",
)

money = st.one_of(st.none(), st.floats(0, 5_000), st.just(math.nan), st.integers(0, 5_000))
records = st.fixed_dictionaries(
    {
        "annual_premium": money,
        "expected_claims_cost": money,
        "cost_to_serve": money,
        "proposed_premium": money,
        "tenure": st.one_of(st.none(), st.integers(-3, 300), st.floats(-5, 400)),
        "segment": st.one_of(st.none(), st.sampled_from(["mass", "vip", "unknown"])),
    }
)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(max_examples=300, deadline=None)
@given(record=records, renewal=st.booleans())
def test_one_record_equals_the_frame_path(record: dict[str, object], renewal: bool) -> None:
    margin, clv = MODEL.for_record(record, renewal=renewal)
    frame = pd.DataFrame([record])
    frame_margin = MODEL.annual_margin(frame)
    basis = MODEL.renewal_margin(frame) if renewal else frame_margin
    assert _same(margin, float(frame_margin[0]))
    assert _same(clv, float(MODEL.clv(frame, basis)[0]))


def test_missing_role_column_and_text_are_errors() -> None:
    record = {"annual_premium": 500.0, "expected_claims_cost": 100.0, "cost_to_serve": 20.0}
    with pytest.raises(KeyError):
        MODEL.for_record(record, renewal=True)  # no proposed premium column
    with pytest.raises(ValueError, match="lots"):
        MODEL.for_record({**record, "proposed_premium": "lots", "tenure": 2}, renewal=True)


def test_longer_tenure_is_worth_more_in_a_segment_with_rising_retention() -> None:
    base = {"annual_premium": 600.0, "expected_claims_cost": 300.0, "cost_to_serve": 40.0,
            "proposed_premium": 630.0, "segment": "mass"}  # fmt: skip
    values = [MODEL.for_record({**base, "tenure": t}, renewal=True)[1] for t in (0, 2, 8)]
    assert values == sorted(values)
    margin, clv = MODEL.for_record({**base, "tenure": 2}, renewal=True)
    assert margin == pytest.approx(260.0)
    assert clv > (290.0 / 1.08)  # at least this renewal's discounted renewal margin
    assert np.isfinite(clv)
