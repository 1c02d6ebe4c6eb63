"""Features are computed once: per row and per frame agree, and specs survive JSON."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.features import CategoricalFeature, FeatureSpec, build_matrix, build_row

ROLES = {
    "premium": "annual_premium",
    "proposed_premium": "proposed_premium",
    "new_business_premium": "new_business_premium",
}


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [30, 55, None],
            "has_home": [True, False, True],
            "segment": pd.Categorical(["vip", "mass", None], categories=["mass", "vip"]),
            "annual_premium": [500.0, 800.0, 650.0],
            "proposed_premium": [550.0, 800.0, 700.0],
            "new_business_premium": [500.0, 700.0, np.nan],
        }
    )


@pytest.fixture
def spec(frame: pd.DataFrame) -> FeatureSpec:
    numeric = ["age", "has_home", "annual_premium", "proposed_premium"]
    return FeatureSpec.fit(frame, numeric, ["segment"], ROLES)


def test_names_and_derived_features(spec: FeatureSpec) -> None:
    assert spec.names == [
        "age", "has_home", "annual_premium", "proposed_premium", "segment",
        "price_change", "price_to_new_business",
    ]  # fmt: skip
    assert spec.categorical_indices == [4]


def test_matrix_values(frame: pd.DataFrame, spec: FeatureSpec) -> None:
    x = build_matrix(frame, spec)
    np.testing.assert_allclose(x[:, 0], [30, 55, np.nan])
    np.testing.assert_allclose(x[:, 4], [1, 0, np.nan])  # codes by declared level order
    np.testing.assert_allclose(x[:, 5], [0.1, 0.0, 700 / 650 - 1])
    np.testing.assert_allclose(x[:, 6], [0.1, 800 / 700 - 1, np.nan])


def test_one_row_from_a_plain_record_equals_the_frame_row(
    frame: pd.DataFrame, spec: FeatureSpec
) -> None:
    x = build_matrix(frame, spec)
    for i, record in enumerate(frame.astype(object).to_dict("records")):
        record = {k: (None if pd.isna(v) else v) for k, v in record.items()}
        np.testing.assert_array_equal(build_row(record, spec), x[i : i + 1])


def test_offered_premium_reprices_every_price_feature(
    frame: pd.DataFrame, spec: FeatureSpec
) -> None:
    x = build_matrix(frame, spec, offered_premium=np.array([500.0, 880.0, 650.0]))
    np.testing.assert_allclose(x[:, 3], [500, 880, 650])
    np.testing.assert_allclose(x[:, 5], [0.0, 0.1, 0.0])
    row = build_row({"annual_premium": 500.0, "new_business_premium": 400.0}, spec, 600.0)
    np.testing.assert_allclose(row[0, 5:], [0.2, 0.5])


def test_unknown_level_and_missing_column_are_missing(spec: FeatureSpec) -> None:
    row = build_row({"segment": "platinum"}, spec)
    assert np.isnan(row[0, 4])
    assert np.isnan(row[0, 0])


def test_spec_round_trips_through_json_keeping_column_order(spec: FeatureSpec) -> None:
    again = FeatureSpec.model_validate_json(spec.model_dump_json())
    assert again == spec
    assert again.names == spec.names


# -- the one-row fast path is build_matrix, value for value ---------------------------------

_NUMBERS = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.booleans(),
    st.floats(min_value=-1e4, max_value=1e4).map(np.float64),
    st.integers(min_value=-100, max_value=100).map(np.int64),
    st.just(pd.NA),
)
_LEVELS = st.one_of(
    st.none(),
    st.sampled_from(["mass", "vip", "platinum", ""]),
    st.sampled_from(["mass", "vip"]).map(np.str_),
    st.integers(0, 2),
    st.just(math.nan),
)
_NUMERIC_COLUMNS = ["age", "has_home", "annual_premium", "proposed_premium"]


@st.composite
def records(draw: st.DrawFn) -> dict[str, object]:
    record: dict[str, object] = {}
    for name in [*_NUMERIC_COLUMNS, "new_business_premium"]:
        if draw(st.booleans()):
            record[name] = draw(_NUMBERS)
    if draw(st.booleans()):
        record["segment"] = draw(_LEVELS)
    if draw(st.booleans()):
        record["unrelated"] = draw(st.sampled_from(["text", 3, None]))
    return record


def _same(row: np.ndarray, matrix: np.ndarray) -> None:
    assert row.shape == matrix.shape == (1, matrix.shape[1])
    assert row.dtype == matrix.dtype == np.float64
    assert row.flags.c_contiguous
    np.testing.assert_array_equal(row, matrix)  # NaN where NaN, bit-equal elsewhere


@settings(max_examples=400, deadline=None)
@example(record={"annual_premium": 2.225073858507e-311}, offered=1.0)  # overflows to inf
@given(record=records(), offered=st.one_of(st.none(), _NUMBERS.filter(lambda v: v is not None)))
def test_build_row_equals_build_matrix_on_any_record(
    record: dict[str, object], offered: object
) -> None:
    spec = FeatureSpec(
        numeric=tuple(_NUMERIC_COLUMNS),
        categorical=(CategoricalFeature(name="segment", levels=("mass", "vip")),),
        derived=("price_change", "price_to_new_business"),
        premium="annual_premium",
        proposed_premium="proposed_premium",
        new_business_premium="new_business_premium",
    )
    _same(build_row(record, spec, offered), build_matrix(record, spec, offered))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "roles",
    [
        {},
        {"premium": "annual_premium"},
        {"premium": "annual_premium", "proposed_premium": "proposed_premium"},
        ROLES,
    ],
)
def test_build_row_equals_build_matrix_whatever_the_price_roles(
    frame: pd.DataFrame, roles: dict[str, str]
) -> None:
    spec = FeatureSpec.fit(frame, ["age", "annual_premium"], ["segment"], roles)
    for record in frame.astype(object).to_dict("records"):
        for offered in (None, 0.0, 600.0, -1.0, math.nan):
            _same(build_row(record, spec, offered), build_matrix(record, spec, offered))


def test_build_row_with_array_values_takes_the_matrix_path(spec: FeatureSpec) -> None:
    record = {"age": np.array([30.0]), "segment": "vip", "annual_premium": 500.0}
    _same(build_row(record, spec), build_matrix(record, spec))
    with pytest.raises(ValueError, match="different lengths"):
        build_row({"age": [1.0, 2.0], "annual_premium": [1.0, 2.0, 3.0]}, spec)


def test_build_row_repeated_level_keeps_its_first_code() -> None:
    spec = FeatureSpec(
        numeric=(), categorical=(CategoricalFeature(name="s", levels=("a", "b", "a")),)
    )
    _same(build_row({"s": "a"}, spec), build_matrix({"s": "a"}, spec))
    assert build_row({"s": "a"}, spec)[0, 0] == 0.0


def test_build_row_is_prepared_once_per_spec(spec: FeatureSpec) -> None:
    again = FeatureSpec.model_validate_json(spec.model_dump_json())  # equal, not the same
    record = {"age": 40, "segment": "mass", "annual_premium": 500.0, "proposed_premium": 600.0}
    _same(build_row(record, again), build_row(record, spec))
    _same(build_row(record, again), build_matrix(record, spec))
