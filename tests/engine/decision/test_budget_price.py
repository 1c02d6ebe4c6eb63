"""A budget's declared shadow price (``min_value_per_cost``) in live decisions.

An action charged to a priced budget is offered only when its expected value exceeds the
price times its cost, and its score is the formula net of that price: per customer, the
choice the Lagrangian batch allocation (``allocate_budgets(priority="shadow_price")``)
makes at the same prices. Per row and vectorised agree (``test_decide_frame`` and the
arbitration properties run a priced variant too).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.decision import (
    Context,
    Scores,
    allocate_budgets,
    budget_shadow_prices,
    decide,
    decide_frame,
)
from engine.rules import RuleSet, compile_rule_set

from .conftest import DEMO_RULES

NOW = datetime(2026, 6, 1, 10, 0)  # as in conftest.py
MakeFrame = Callable[[RuleSet, pd.DataFrame, int], pd.DataFrame]
MakeRow = Callable[[RuleSet, pd.DataFrame, int], Any]
DISCOUNTS = "amount: 250000, period: quarter}"


def _priced(price: float) -> RuleSet:
    text = DEMO_RULES.read_text()
    assert DISCOUNTS in text
    text = text.replace(DISCOUNTS, DISCOUNTS[:-1] + f", min_value_per_cost: {price}}}")
    return compile_rule_set(text.encode(), "priced.yaml")


@pytest.fixture(scope="module")
def priced() -> RuleSet:
    return _priced(1.5)


def test_the_price_is_compiled_onto_the_budget_and_its_actions(priced: RuleSet) -> None:
    assert priced.budgets["retention_discounts"].min_value_per_cost == 1.5
    assert priced.budgets["service_callbacks"].min_value_per_cost == 0.0
    assert priced.action("loyalty_discount_5").budget_price == 1.5
    assert priced.action("senior_agent_callback").budget_price == 0.0
    assert priced.action("thank_you_note").budget_price == 0.0  # no budget


@settings(max_examples=60, deadline=None)
@given(uplift=st.floats(-0.3, 0.3), clv=st.floats(0, 10000), premium=st.floats(100, 4000))
def test_a_discount_is_offered_exactly_when_it_beats_its_budget_price(
    priced: RuleSet, uplift: float, clv: float, premium: float
) -> None:
    features = {
        "tenure_years": 4, "proposed_premium": premium, "segment": "mass", "claims_amount_3y": 0,
    }  # fmt: skip
    scores = Scores(p_churn=0.2, clv=clv, margin=10_000.0, uplift={"loyalty_discount_5": uplift})
    decision = decide(priced, "C-PRICE", features, scores, Context(now=NOW, channel="email"))
    cost = 0.05 * premium * (1 - 0.2 + uplift)
    value = uplift * clv - cost
    offered = "loyalty_discount_5" in decision.action_ids
    assert offered == (value > 1.5 * cost) or decision.control_group
    if offered and not decision.control_group:
        (chosen,) = (c for c in decision.candidates if c.action_id == "loyalty_discount_5")
        assert chosen.score == pytest.approx(value - 1.5 * cost)
        assert any(r.code == "budget_price" for r in chosen.reasons)
    elif value > 0 and not decision.control_group:
        rejected = {r.action_id: r.code for r in decision.rejected}
        assert rejected["loyalty_discount_5"] == "below_budget_price"


def test_the_price_reorders_a_customers_offers_by_value_net_of_it() -> None:
    # A 10 % discount worth 90 for 50 and a callback worth 60 for 40: by expected value the
    # discount comes first; at a price of 1.5 per euro of discounts it is worth 90 − 75 = 15
    # against the callback's 60, so the callback leads.
    features = {
        "tenure_years": 5, "proposed_premium": 625.0, "segment": "mass",
        "claims_amount_3y": 0, "complaints_12m": 1,
    }  # fmt: skip
    clv = 700.0  # discount: 0.2 × 700 − 0.1 × 625 × (1 − 0.4 + 0.2) = 140 − 50 = 90
    uplift = {"loyalty_discount_10": 0.2, "senior_agent_callback": 100.0 / clv}
    scores = Scores(p_churn=0.4, clv=clv, margin=400.0, uplift=uplift)
    context = Context(now=NOW, channel="email")
    customer = "C-ORDER-2"
    plain = decide(_priced(0.0), customer, features, scores, context)
    assert not plain.control_group
    assert plain.action_ids[:2] == ("loyalty_discount_10", "senior_agent_callback")
    priced = decide(_priced(1.5), customer, features, scores, context)
    assert priced.action_ids[:2] == ("senior_agent_callback", "loyalty_discount_10")


def test_vectorised_priced_decisions_reject_below_the_price(
    priced: RuleSet, book: pd.DataFrame, make_frame: MakeFrame, make_row: MakeRow
) -> None:
    frame = make_frame(priced, book.head(1500), 3)
    batch = decide_frame(priced, frame, Context(now=NOW))
    codes = {r.code for i in range(len(frame)) for r in batch.decision(i).rejected}
    assert "below_budget_price" in codes
    for i in range(0, len(frame), 7):
        customer_id, features, scores, context, history = make_row(priced, frame, i)
        assert batch.decision(i) == decide(priced, customer_id, features, scores, context, history)


def test_declaring_the_batch_shadow_prices_keeps_decisions_within_them(
    demo_rules: RuleSet, book: pd.DataFrame, make_frame: MakeFrame
) -> None:
    # The loop the rule file documents: estimate the prices on a batch, declare them, and
    # every offer of a priced budget then earns more than its price per unit of cost.
    frame = make_frame(demo_rules, book, 5)
    batch = decide_frame(demo_rules, frame, Context(now=NOW))
    remaining = {"retention_discounts": 1500.0, "service_callbacks": 400.0}
    prices = budget_shadow_prices(batch, remaining_budgets=remaining)
    assert prices["retention_discounts"] > 0
    assert prices["service_callbacks"] > 0
    assert prices["pricing_concessions"] == 0.0  # 150,000 does not bind on 3,000 customers
    text = DEMO_RULES.read_text()
    for name, price in prices.items():
        line = next(b for b in text.splitlines() if f"- {{name: {name}," in b and "#" not in b)
        text = text.replace(line, line.replace("}", f", min_value_per_cost: {price!r}}}"))
    declared = compile_rule_set(text.encode(), "declared.yaml")
    again = decide_frame(declared, frame, Context(now=NOW))
    offered = again.slots >= 0
    for k in range(again.slots.shape[1]):
        for row in np.flatnonzero(offered[:, k] & ~again.fallback_used):
            action = declared.actions[again.slots[row, k]]
            assert again.value[row, k] > action.budget_price * again.cost[row, k]
    allocation = allocate_budgets(again, remaining_budgets=remaining)
    assert allocation.spent["retention_discounts"] <= 1500.0 + 1e-9
