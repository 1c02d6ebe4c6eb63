"""Renewal verdicts: the showcases, every verdict path, and batch equal to per customer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from engine.decision import (
    Context,
    RenewalPrices,
    Scores,
    check_renewal,
    check_renewals,
)
from engine.decision.inputs import Numbers
from engine.rules import RuleSet

NOW = datetime(2026, 6, 1, 10, 0)
RENEWAL = Context(now=NOW, event="renewal_due")
BASE: dict[str, object] = {
    "segment": "mass", "age": 52, "tenure_years": 9, "n_products": 2, "has_motor": True,
    "has_home": True, "annual_premium": 1000.0, "claims_count_3y": 0,
    "claims_amount_3y": 0.0, "years_loss_free": 1, "complaints_12m": 0,
    "late_payments_12m": 0, "satisfaction": 7, "expected_claims_cost": 520.0,
    "cost_to_serve": 95.0,
}  # fmt: skip
MakeFrame = Callable[[RuleSet, pd.DataFrame, int], pd.DataFrame]
MakeRow = Callable[[RuleSet, pd.DataFrame, int], Any]


def linear(points: list[tuple[float, float]]) -> Callable[[Numbers], Numbers]:
    xs, ys = np.array([p for p, _ in points]), np.array([q for _, q in points])

    def p_churn_at(premiums: Numbers) -> Numbers:
        found: Numbers = np.interp(premiums, xs, ys)
        return found

    return p_churn_at


def test_loss_free_valuable_price_sensitive_customer_is_not_raised_and_rewarded(
    demo_rules: RuleSet,
) -> None:
    features = {**BASE, "years_loss_free": 7, "annual_premium": 800.0}
    scores = Scores(p_churn=0.24, clv=2600.0, margin=390.0)
    prices = RenewalPrices(800.0, 920.0, 950.0)
    verdict = check_renewal(
        demo_rules,
        "C-LOYAL-1",
        features,
        scores,
        prices,
        linear([(800, 0.12), (920, 0.24)]),
        RENEWAL,
    )
    assert verdict.verdict == "adjust"
    assert verdict.recommended_premium == 800.0
    assert verdict.p_churn_at_proposed == pytest.approx(0.24)
    assert verdict.p_churn_at_recommended == pytest.approx(0.12)
    assert verdict.expected_value_at_proposed == pytest.approx(0.76 * (2600 + 120 * 2600 / 390))
    assert verdict.expected_value_at_recommended == pytest.approx(0.88 * 2600)
    assert verdict.action is not None
    assert verdict.action.action_id == "loyalty_reward"
    assert verdict.action.reasons[0].code == "price_policy_offer"
    assert "7 loss-free years" in verdict.action.script
    assert "loyal_no_increase" in verdict.policies
    codes = [(r.code, r.rule) for r in verdict.reasons]
    assert ("price_cap", "loyal_no_increase") in codes
    assert codes[-1] == ("adjust", None)


def test_recent_large_claimant_with_low_margin_is_approved(demo_rules: RuleSet) -> None:
    features = {
        **BASE, "claims_count_3y": 2, "claims_amount_3y": 9800.0, "years_loss_free": 0,
        "expected_claims_cost": 860.0, "cost_to_serve": 215.0,
    }  # fmt: skip
    scores = Scores(p_churn=0.26, clv=150.0, margin=40.0)
    prices = RenewalPrices(1000.0, 1120.0, 1180.0)
    verdict = check_renewal(
        demo_rules,
        "C-CLAIM-1",
        features,
        scores,
        prices,
        linear([(1000, 0.2), (1120, 0.26)]),
        RENEWAL,
    )
    assert verdict.verdict == "approve"
    assert verdict.recommended_premium == 1120.0
    assert verdict.action is None
    assert "loyal_no_increase" not in verdict.policies
    assert [r.code for r in verdict.reasons] == ["approve"]


@pytest.mark.parametrize(
    ("prices", "features", "verdict", "recommended", "reason"),
    [
        (
            RenewalPrices(1000, 1120, 1300),
            {"segment": "vip"},
            "review",
            1120,
            "vip_increase_review",
        ),
        (RenewalPrices(1000, 1120, 780), {}, "review", 1120, "not_above_new_business"),
        (RenewalPrices(1000, 1050, 1300), {}, "approve", 1050, None),  # worth the most
        (RenewalPrices(1000, 1350, 1500), {}, "review", 1350, "large_increase_review"),
        (RenewalPrices(1000, 1050), {}, "review", 1050, "not_above_new_business"),
        (RenewalPrices(1000, 580, 1000), {}, "adjust", 615, "cost_floor"),
        (
            RenewalPrices(500, 580, 620),
            {"years_loss_free": 5, "expected_claims_cost": 470.0},
            "review",
            580,
            None,  # loyal: no increase (cap 500), but the cost floor is 565: a conflict
        ),
    ],
)
def test_each_verdict_path(
    demo_rules: RuleSet,
    prices: RenewalPrices,
    features: dict[str, object],
    verdict: str,
    recommended: float,
    reason: str | None,
) -> None:
    scores = Scores(p_churn=0.2, clv=1800.0, margin=300.0)
    response = linear([(400, 0.05), (500, 0.1), (580, 0.25), (1400, 0.4)])
    result = check_renewal(
        demo_rules, "C-NEWBIZ-2", {**BASE, **features}, scores, prices, response, RENEWAL
    )
    assert (result.verdict, result.recommended_premium) == (verdict, recommended)
    assert reason in {r.rule for r in result.reasons}


def test_batch_renewals_agree_with_one_by_one(
    demo_rules: RuleSet, book: pd.DataFrame, make_frame: MakeFrame, make_row: MakeRow
) -> None:
    frame = make_frame(demo_rules, book.head(1200), 21)
    frame["current_premium"] = frame["annual_premium"]
    frame.loc[::40, "new_business_premium"] = np.nan
    frame["channel"], frame["event"] = "agent", "renewal_due"
    base, current = frame["p_churn"].to_numpy(), frame["current_premium"].to_numpy()

    def response(premiums: Numbers, b: Numbers = base, c: Numbers = current) -> Numbers:
        found: Numbers = 1 / (1 + np.exp(-(np.log(b / (1 - b)) + 3.0 * (premiums / c - 1))))
        return found

    context = Context(now=NOW, channel="agent", event="renewal_due")
    batch = check_renewals(demo_rules, frame, response, context)
    out = batch.to_frame()
    assert set(out["verdict"]) == {"approve", "adjust", "review"}
    assert out["action"].notna().any()
    assert out.loc[out["control_group"], "action"].isna().all()
    for i in range(len(frame)):
        customer_id, features, scores, row_context, history = make_row(demo_rules, frame, i)
        prices = RenewalPrices(
            features["current_premium"],
            features["proposed_premium"],
            features["new_business_premium"],
        )

        def one(premiums: Numbers, i: int = i) -> Numbers:
            return response(premiums, base[i], current[i])

        expected = check_renewal(
            demo_rules, customer_id, features, scores, prices, one, row_context, history
        )
        assert batch.verdict_at(i) == expected, i
        assert out["recommended_premium"].iloc[i] == expected.recommended_premium
        assert out["verdict"].iloc[i] == expected.verdict
        action = expected.action.action_id if expected.action else None
        assert (None if pd.isna(out["action"].iloc[i]) else out["action"].iloc[i]) == action
