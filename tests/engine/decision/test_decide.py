"""``decide`` for one customer: value, ranking, context, contact policy, fallback, reasons."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta, timezone

import pytest

from engine.decision import (
    ContactSnapshot,
    Context,
    OfferRecord,
    Scores,
    decide,
)
from engine.rules import RuleSet

NOW = datetime(2026, 6, 1, 10, 0)
CUSTOMER: dict[str, object] = {
    "segment": "mass", "age": 45, "tenure_years": 6, "n_products": 2, "has_motor": True,
    "has_home": True, "has_life": False, "email_opt_in": True, "annual_premium": 900.0,
    "proposed_premium": 960.0, "claims_count_3y": 0, "claims_amount_3y": 0.0,
    "years_loss_free": 6, "complaints_12m": 1, "service_calls_12m": 2,
    "late_payments_12m": 0, "satisfaction": 6, "expected_claims_cost": 480.0,
    "cost_to_serve": 125.0,
}  # fmt: skip
AGENT = Context(now=NOW, channel="agent")


def _scores(**uplift: float) -> Scores:
    return Scores(p_churn=0.18, clv=1800.0, margin=340.0, uplift=uplift)


def test_ranked_candidates_carry_script_value_and_reasons(demo_rules: RuleSet) -> None:
    decision = decide(
        demo_rules,
        "C-1",
        CUSTOMER,
        _scores(loyalty_discount_5=0.05, senior_agent_callback=0.06),
        AGENT,
    )
    assert decision.action_ids == ("senior_agent_callback", "loyalty_discount_5")
    discount = decision.candidates[1]
    cost = 0.05 * 960.0 * (1 - 0.18 + 0.05)
    assert discount.cost == pytest.approx(cost)
    assert discount.expected_value == pytest.approx(0.05 * 1800 - cost)
    assert discount.score == discount.expected_value
    assert discount.script == (
        "Offer 5% off the renewal premium of 960.00, as thanks for 6 years with us."
    )
    assert discount.parameters == {"discount_pct": 5}
    assert (discount.kind, discount.group, discount.budget) == (
        "discount", "retention", "retention_discounts",
    )  # fmt: skip
    codes = [reason.code for reason in discount.reasons]
    assert codes == ["eligible", "expected_value"]
    assert "uplift 0.050 × lifetime value 1,800.00" in discount.reasons[1].text
    assert decision.rule_set_hash == demo_rules.hash
    assert not decision.control_group
    assert not decision.fallback_used
    with pytest.raises(FrozenInstanceError):
        decision.control_group = True  # type: ignore[misc]


def test_doing_nothing_wins_when_no_action_has_positive_value(demo_rules: RuleSet) -> None:
    email = Context(now=NOW, channel="email")
    decision = decide(demo_rules, "C-1", CUSTOMER, _scores(loyalty_discount_5=0.01), email)
    assert decision.candidates == ()
    assert [r.code for r in decision.reasons] == ["no_action"]
    assert decision.reasons[0].rule == "no_action"
    rejected = {r.action_id: r.code for r in decision.rejected}
    assert rejected["loyalty_discount_5"] == "not_worth_it"
    assert rejected["loyalty_discount_10"] == "no_uplift"


def test_context_weight_reorders_and_is_explained(demo_rules: RuleSet) -> None:
    scores = _scores(loyalty_discount_5=0.05, senior_agent_callback=0.06)
    cancel = Context(now=NOW, channel="agent", intent="cancel_request")
    decision = decide(demo_rules, "C-1", CUSTOMER, scores, cancel)
    assert decision.action_ids == ("loyalty_discount_5", "senior_agent_callback")
    top = decision.candidates[0]
    assert top.score == pytest.approx(1.5 * (top.expected_value or 0))
    weight = next(r for r in top.reasons if r.code == "context_weight")
    assert weight.rule == "cancel_request_boost"
    assert weight.text.endswith("(×1.5)")


def test_min_score_and_top_k(rule_variants: list[RuleSet]) -> None:
    # Expected values: payment plan 888, callback 68, discount 30.72 (below 35).
    scores = _scores(loyalty_discount_5=0.04, senior_agent_callback=0.06, payment_plan=0.5)
    customer = {**CUSTOMER, "late_payments_12m": 1}
    high_bar, top_one = rule_variants[2], rule_variants[3]
    assert decide(high_bar, "C-1", customer, scores, AGENT).action_ids == (
        "payment_plan", "senior_agent_callback",
    )  # fmt: skip
    only = decide(top_one, "C-1", customer, scores, AGENT)
    assert only.action_ids == ("payment_plan",)
    assert {r.action_id: r.code for r in only.rejected}["senior_agent_callback"] == "ranked_out"


def test_the_customers_used_here_are_outside_the_control_group(demo_rules: RuleSet) -> None:
    for customer_id in ("C-1", "C-2", "C-3", "C-4", "C-5", "C-8", "C-9", "C-10"):
        assert not decide(demo_rules, customer_id, CUSTOMER, _scores(), AGENT).control_group


def test_control_group_gets_nothing_but_keeps_what_it_would_have_got(demo_rules: RuleSet) -> None:
    decision = decide(demo_rules, "C00000008", CUSTOMER, _scores(loyalty_discount_5=0.1), AGENT)
    assert decision.control_group
    assert decision.candidates == ()
    assert [c.action_id for c in decision.held_back] == ["loyalty_discount_5"]
    assert decision.reasons[0].code == "control_group"
    assert not decision.fallback_used


def test_fallback_only_when_nothing_qualifies_and_its_own_rules_hold(demo_rules: RuleSet) -> None:
    calm = {**CUSTOMER, "complaints_12m": 0, "satisfaction": 8}
    used = decide(demo_rules, "C-2", calm, _scores(), AGENT)
    assert used.fallback_used
    assert used.action_ids == ("thank_you_note",)
    assert used.candidates[0].expected_value is None  # no uplift score: value unknown
    assert used.candidates[0].reasons[0].code == "fallback"
    sleeping = decide(demo_rules, "C-2", calm, _scores(thank_you_note=-0.02), AGENT)
    assert not sleeping.fallback_used
    assert sleeping.candidates == ()
    by_email = decide(demo_rules, "C-2", calm, _scores(), Context(now=NOW, channel="email"))
    assert not by_email.fallback_used


def test_cool_down_after_a_decline_and_offer_limit(demo_rules: RuleSet) -> None:
    scores = _scores(loyalty_discount_5=0.05)
    declined = ContactSnapshot(declined_at=NOW - timedelta(days=13, hours=23))
    cooled = ContactSnapshot(declined_at=NOW - timedelta(days=14))
    assert decide(demo_rules, "C-3", CUSTOMER, scores, AGENT, declined).candidates == ()
    assert decide(demo_rules, "C-3", CUSTOMER, scores, AGENT, cooled).candidates != ()
    busy = ContactSnapshot(
        tuple(OfferRecord("payment_plan", NOW - timedelta(days=d)) for d in (1, 2, 29))
    )
    blocked = decide(demo_rules, "C-3", CUSTOMER, scores, AGENT, busy)
    assert blocked.candidates == ()
    assert (blocked.reasons[0].code, blocked.reasons[0].rule) == ("contact_policy", "max_offers")
    older = ContactSnapshot(
        tuple(OfferRecord("payment_plan", NOW - timedelta(days=d)) for d in (1, 2, 31))
    )
    assert decide(demo_rules, "C-3", CUSTOMER, scores, AGENT, older).candidates != ()


def test_frequency_cap_per_action(demo_rules: RuleSet) -> None:
    scores = _scores(loyalty_discount_5=0.05)
    recent = ContactSnapshot((OfferRecord("loyalty_discount_5", NOW - timedelta(days=179)),))
    old = ContactSnapshot((OfferRecord("loyalty_discount_5", NOW - timedelta(days=181)),))
    capped = decide(demo_rules, "C-4", CUSTOMER, scores, AGENT, recent)
    assert "loyalty_discount_5" not in capped.action_ids
    assert (
        "loyalty_discount_5" in decide(demo_rules, "C-4", CUSTOMER, scores, AGENT, old).action_ids
    )


def test_guardrail_rejection_names_the_guardrail(demo_rules: RuleSet) -> None:
    scores = Scores(p_churn=0.18, clv=1800.0, margin=20.0, uplift={"loyalty_discount_5": 0.1})
    decision = decide(demo_rules, "C-5", CUSTOMER, scores, AGENT)
    rejection = next(r for r in decision.rejected if r.action_id == "loyalty_discount_5")
    assert (rejection.code, rejection.rule) == ("guardrail", "offer_keeps_margin")


def test_validity_dates_compare_with_the_decision_time(demo_rules: RuleSet) -> None:
    single = {**CUSTOMER, "n_products": 1, "has_home": False}
    scores = _scores(bundle_discount=0.1)
    inside = Context(now=datetime(2026, 12, 31, 23, 0), channel="agent")
    after = Context(now=datetime(2027, 1, 1, 0, 30), channel="agent")
    assert "bundle_discount" in decide(demo_rules, "C-9", single, scores, inside).action_ids
    late = decide(demo_rules, "C-9", single, scores, after)
    assert {r.action_id: r.code for r in late.rejected}["bundle_discount"] == "not_valid_now"


def test_aware_times_are_compared_in_utc(demo_rules: RuleSet) -> None:
    scores = _scores(loyalty_discount_5=0.05)
    paris = timezone(timedelta(hours=2))
    context = Context(now=datetime(2026, 6, 1, 12, 0, tzinfo=paris), channel="agent")
    declined = ContactSnapshot(declined_at=datetime(2026, 5, 18, 10, 30, tzinfo=UTC))
    assert decide(demo_rules, "C-10", CUSTOMER, scores, context, declined).candidates == ()
    declined = ContactSnapshot(declined_at=datetime(2026, 5, 18, 9, 30, tzinfo=UTC))
    assert decide(demo_rules, "C-10", CUSTOMER, scores, context, declined).candidates != ()


def test_missing_values_never_make_an_offer_look_good(demo_rules: RuleSet) -> None:
    nan = float("nan")
    for scores in (
        Scores(p_churn=nan, clv=1800.0, margin=340.0, uplift={"loyalty_discount_5": 0.05}),
        Scores(p_churn=0.2, clv=nan, margin=340.0, uplift={"loyalty_discount_5": 0.05}),
        Scores(p_churn=0.2, clv=1800.0, margin=nan, uplift={"loyalty_discount_5": 0.05}),
        Scores(p_churn=0.2, clv=1800.0, margin=340.0, uplift={"loyalty_discount_5": nan}),
    ):
        email = Context(now=NOW, channel="email")
        assert decide(demo_rules, "C-8", CUSTOMER, scores, email).candidates == ()
