"""The rule file's ``pricing`` section steers the renewal check's value search."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from engine.decision import Context, RenewalPrices, Scores, check_renewal, check_renewals
from engine.decision.inputs import Numbers
from engine.decision.pricing import candidate_premiums
from engine.rules import PriceSearch, RuleSet, RuleSetError, compile_rule_set

from .conftest import DEMO_RULES

NOW = datetime(2026, 6, 1, 10, 0)
RENEWAL = Context(now=NOW, event="renewal_due")
FEATURES: dict[str, object] = {
    "segment": "mass", "age": 52, "tenure_years": 9, "n_products": 2, "has_motor": True,
    "has_home": True, "annual_premium": 1000.0, "claims_count_3y": 0,
    "claims_amount_3y": 0.0, "years_loss_free": 1, "complaints_12m": 0,
    "late_payments_12m": 0, "satisfaction": 7, "expected_claims_cost": 520.0,
    "cost_to_serve": 95.0,
}  # fmt: skip
DEMO_PRICING = re.compile(r"^pricing:\n(?:  .*\n)+", re.MULTILINE)
"""The demo file's ``pricing`` section: its key line and every indented line under it."""


def with_pricing(section: str) -> RuleSet:
    text, found = DEMO_PRICING.subn(section, DEMO_RULES.read_text())
    assert found == 1
    return compile_rule_set(text.encode(), "variant.yaml")


def steep(premiums: Numbers) -> Numbers:
    """Churn rises from 10 % at 1,000 to 40 % at 1,100: the increase does not pay."""
    found: Numbers = np.interp(premiums, [1000.0, 1100.0], [0.1, 0.4])
    return found


def verdict_of(rules: RuleSet) -> tuple[str, float]:
    scores = Scores(p_churn=0.4, clv=2000.0, margin=300.0)
    prices = RenewalPrices(1000.0, 1100.0, 1200.0)
    result = check_renewal(rules, "C-STEEP-1", FEATURES, scores, prices, steep, RENEWAL)
    return result.verdict, result.recommended_premium


def test_demo_rules_declare_the_default_search(demo_rules: RuleSet) -> None:
    assert demo_rules.pricing == PriceSearch()
    assert with_pricing("").pricing == PriceSearch()  # section absent: the same defaults


def test_a_wide_tolerance_approves_what_the_default_adjusts(demo_rules: RuleSet) -> None:
    # Expected value 1,600 at the proposed 1,100 against 1,800 at the current 1,000.
    assert verdict_of(demo_rules) == ("adjust", 1000.0)
    wide = with_pricing("pricing:\n  tolerance_pct: 20\n")
    assert wide.pricing.tolerance_pct == 20.0
    assert wide.pricing.changes_pct == PriceSearch().changes_pct  # left out: the default
    assert verdict_of(wide) == ("approve", 1100.0)
    assert verdict_of(with_pricing("pricing:\n  tolerance_amount: 250\n")) == ("approve", 1100.0)


def test_the_grid_and_the_ceiling_set_the_candidates() -> None:
    rules = with_pricing("pricing:\n  changes_pct: [-20, 50]\n  max_above_proposed_pct: null\n")
    assert rules.pricing.changes_pct == (-20.0, 50.0)
    assert rules.pricing.max_above_proposed_pct is None
    one = np.array
    found = candidate_premiums(
        one([1000.0]), one([1100.0]), one([-np.inf]), one([np.inf]), rules.pricing
    )
    assert found[0].tolist() == [1100.0, 1000.0, 1100.0, 1100.0, 800.0, 1500.0]
    capped = with_pricing("pricing:\n  changes_pct: [-20, 50]\n  max_above_proposed_pct: 10\n")
    found = candidate_premiums(
        one([1000.0]), one([1100.0]), one([-np.inf]), one([np.inf]), capped.pricing
    )
    assert found[0].tolist() == [1100.0, 1000.0, 1100.0, 1100.0, 800.0, 1210.0]


def test_batch_agrees_with_one_by_one_under_custom_pricing(
    book: pd.DataFrame,
    make_frame: Callable[[RuleSet, pd.DataFrame, int], pd.DataFrame],
    make_row: Callable[[RuleSet, pd.DataFrame, int], Any],
) -> None:
    rules = with_pricing(
        "pricing:\n  changes_pct: [-15, -3, 0, 4, 40]\n  max_above_proposed_pct: 5\n"
        "  tolerance_pct: 3\n  tolerance_amount: 0\n"
    )
    frame = make_frame(rules, book.head(300), 5)
    frame["current_premium"] = frame["annual_premium"]
    frame["channel"], frame["event"] = "agent", "renewal_due"
    base, current = frame["p_churn"].to_numpy(), frame["current_premium"].to_numpy()

    def response(premiums: Numbers, b: Numbers = base, c: Numbers = current) -> Numbers:
        found: Numbers = 1 / (1 + np.exp(-(np.log(b / (1 - b)) + 3.0 * (premiums / c - 1))))
        return found

    context = Context(now=NOW, channel="agent", event="renewal_due")
    batch = check_renewals(rules, frame, response, context)
    for i in range(len(frame)):
        customer_id, features, scores, row_context, history = make_row(rules, frame, i)
        prices = RenewalPrices(
            features["current_premium"],
            features["proposed_premium"],
            features["new_business_premium"],
        )

        def one(premiums: Numbers, i: int = i) -> Numbers:
            return response(premiums, base[i], current[i])

        expected = check_renewal(
            rules, customer_id, features, scores, prices, one, row_context, history
        )
        assert batch.verdict_at(i) == expected, i


@pytest.mark.parametrize(
    "section",
    [
        "pricing:\n  tolerance_pct: -1\n",
        "pricing:\n  changes_pct: []\n",
        "pricing:\n  changes_pct: [5, 150]\n",
        "pricing:\n  tolerance: 2\n",
    ],
)
def test_bad_pricing_is_refused(section: str) -> None:
    with pytest.raises(RuleSetError, match=r"variant\.yaml:\d+:\d+: pricing"):
        with_pricing(section)
