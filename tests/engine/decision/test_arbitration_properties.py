"""Properties of arbitration over any customers, scores, contexts and contact histories.

* nothing is offered whose expected value is <= 0 or whose score is <= the minimum score
  (the fallback, offered only when nothing else qualifies, is the documented exception),
  nor, where its budget declares a shadow price, whose expected value is <= price × cost;
* offers are ranked by score, at most top-K, none to the control group;
* the answer is deterministic, and the vectorised answer equals the per-customer one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.decision import Context, Decision, Scores, decide, decide_frame
from engine.rules import RuleSet

from .conftest import VARIANTS

NOW = datetime(2026, 6, 1, 10, 0)  # as in conftest.py
MakeRow = Callable[[RuleSet, pd.DataFrame, int], Any]

amount = st.one_of(st.none(), st.just(float("nan")), st.floats(-500, 5000, allow_nan=False))
count = st.integers(0, 4)
NUMBERS = {
    "age": st.integers(18, 90),
    "tenure_years": st.integers(0, 25),
    "n_products": st.integers(1, 3),
    "annual_premium": st.floats(200, 3000),
    "proposed_premium": st.floats(200, 3500),
    "premium_change_pct": st.floats(-10, 45),
    "claims_count_3y": count,
    "claims_amount_3y": st.floats(0, 30000),
    "years_loss_free": st.integers(0, 15),
    "complaints_12m": count,
    "service_calls_12m": count,
    "late_payments_12m": count,
    "satisfaction": st.integers(1, 10),
    "expected_claims_cost": st.floats(100, 2000),
    "cost_to_serve": st.floats(30, 400),
}


@st.composite
def customers(draw: st.DrawFn, rules: RuleSet) -> dict[str, object]:
    row: dict[str, object] = {"customer_id": draw(st.text("ABC0123456789", min_size=1, max_size=8))}
    for name, strategy in NUMBERS.items():
        row[name] = draw(st.none() | strategy) if draw(st.integers(0, 19)) == 0 else draw(strategy)
    row["segment"] = draw(st.sampled_from(["mass", "vip", "affiliated", None]))
    row["region"] = draw(st.sampled_from(["north", "capital"]))
    row["acquisition_channel"] = draw(st.sampled_from(["agent", "aggregator"]))
    for flag in ("has_motor", "has_home", "has_life", "email_opt_in"):
        row[flag] = draw(st.booleans())
    row["p_churn"] = draw(st.floats(0, 1) | st.just(float("nan")))
    row["clv"] = draw(amount)
    row["margin"] = draw(amount)
    for action in rules.actions:
        uplift = st.one_of(st.just(float("nan")), st.floats(-0.2, 0.3))
        row[f"uplift__{action.id}"] = draw(uplift)
        row[f"contact_offers__{action.id}"] = draw(st.integers(0, 2))
    row["channel"] = draw(st.sampled_from([*rules.channels, None]))
    row["intent"] = draw(st.sampled_from([*rules.intents, None]))
    row["event"] = draw(st.sampled_from([*rules.events, None]))
    row["contact_offers_in_window"] = draw(st.integers(0, 4))
    days = draw(st.none() | st.integers(0, 40))
    row["contact_last_decline_at"] = None if days is None else NOW - timedelta(days=days)
    return row


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["contact_last_decline_at"] = pd.to_datetime(frame["contact_last_decline_at"])
    return frame


def _check_offers(rules: RuleSet, decision: Decision) -> None:
    assert len(decision.candidates) <= rules.top_k
    if decision.control_group:
        assert decision.candidates == ()
    if decision.fallback_used:
        assert rules.fallback is not None
        assert decision.action_ids == (rules.fallback.id,)
        return
    scores = []
    for candidate in decision.candidates:
        assert candidate.expected_value is not None
        assert candidate.expected_value > 0
        assert candidate.score is not None
        assert candidate.score > rules.min_score
        assert candidate.cost >= 0
        price = rules.action(candidate.action_id).budget_price
        assert candidate.expected_value > price * candidate.cost
        scores.append(candidate.score)
    assert scores == sorted(scores, reverse=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), variant=st.integers(0, VARIANTS - 1))
def test_offers_always_beat_doing_nothing_and_batch_equals_rows(
    rule_variants: list[RuleSet], make_row: MakeRow, data: st.DataObject, variant: int
) -> None:
    rules = rule_variants[variant]
    rows = data.draw(st.lists(customers(rules), min_size=1, max_size=12))
    frame = _frame(rows)
    batch = decide_frame(rules, frame, Context(now=NOW))
    for i in range(len(frame)):
        customer_id, features, scores, context, history = make_row(rules, frame, i)
        decision = decide(rules, customer_id, features, scores, context, history)
        _check_offers(rules, decision)
        assert decide(rules, customer_id, features, scores, context, history) == decision
        assert batch.decision(i) == decision
    again = decide_frame(rules, frame, Context(now=NOW)).to_frame()
    pd.testing.assert_frame_equal(batch.to_frame(), again)


@settings(max_examples=40, deadline=None)
@given(
    uplift=st.floats(-0.3, 0.3),
    clv=st.floats(0, 10000),
    premium=st.floats(100, 4000),
)
def test_a_discount_is_offered_exactly_when_its_expected_value_is_positive(
    demo_rules: RuleSet, make_row: MakeRow, uplift: float, clv: float, premium: float
) -> None:
    features = {
        "tenure_years": 4, "proposed_premium": premium, "segment": "mass", "claims_amount_3y": 0,
    }  # fmt: skip
    scores = Scores(p_churn=0.2, clv=clv, margin=10_000.0, uplift={"loyalty_discount_5": uplift})
    context = Context(now=NOW, channel="email")
    decision = decide(demo_rules, "C-PROP", features, scores, context)
    cost = 0.05 * premium * (1 - 0.2 + uplift)
    offered = "loyalty_discount_5" in decision.action_ids
    assert offered == (uplift * clv - cost > 0) or decision.control_group
    assert np.isfinite(cost)
