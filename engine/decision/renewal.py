"""``check_renewal``: is a renewal premium safe, and what should it be? (one customer)

The renewal check runs the decision pipeline with the prices as context: churn at the
current and proposed premium (``p_churn_at``), price policies (``pricing``), the premium
worth most inside their bounds (one ``p_churn_at`` call for all candidate premiums), churn and
expected value at the recommended premium, and a retention action chosen at the
recommended premium (``proposed_premium`` and ``p_churn`` are those at it) — the offer of the first
fired price policy whose action passes its own checks (eligibility, channel, contact policy,
guardrails; not value: the policy decided it), else the top candidate of the regular
decision. A control-group customer gets the verdict but no action.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from engine.rules import RuleSet

from .decide import decide_evaluated
from .evaluate_row import RowEvaluation, customer_row
from .explain import offer_without_value, policy_offer_reason
from .inputs import NO_HISTORY, ContactHistory, Context, PriceResponse, RenewalPrices, Scores
from .pricing import (
    INF,
    candidate_premiums,
    choose,
    lifetime_multiplier,
    policy_bounds,
    renewal_value,
    renewal_verdict,
    verdicts,
)
from .result import Candidate, RenewalVerdict


def check_renewal(
    rules: RuleSet,
    customer_id: str,
    features: Mapping[str, object],
    scores: Scores,
    prices: RenewalPrices,
    p_churn_at: PriceResponse,
    context: Context,
    history: ContactHistory | None = None,
) -> RenewalVerdict:
    current, proposed = float(prices.current_premium), float(prices.proposed_premium)
    p_current, p_proposed = (float(p) for p in p_churn_at(np.array([current, proposed])))
    row = customer_row(features, scores, context)
    row["current_premium"] = current
    row["proposed_premium"] = proposed
    row["new_business_premium"] = float(prices.new_business_premium)
    row["p_churn_at_proposed"] = p_proposed
    row["p_churn_at_current"] = p_current
    outcomes = [policy_bounds(policy, row, current) for policy in rules.price_policies]
    fired = [o[0] for o in outcomes]
    upper, lower = INF, -INF
    for _, policy_upper, policy_lower, _ in outcomes:
        upper = policy_upper if policy_upper < upper else upper
        lower = policy_lower if policy_lower > lower else lower
    review = any(f and p.review for f, p in zip(fired, rules.price_policies, strict=True))
    missing = any(o[3] for o in outcomes)
    conflict = lower > upper
    clv, multiplier = (
        float(scores.clv),
        lifetime_multiplier(float(scores.clv), float(scores.margin)),
    )
    one = np.array  # one customer: the batch's array code on a row of one
    candidates = candidate_premiums(
        one([current]), one([proposed]), one([lower]), one([upper]), rules.pricing
    )
    p_candidates = np.asarray(p_churn_at(candidates[0]), dtype=np.float64)
    values = renewal_value(p_candidates, clv, candidates[0], current, multiplier)
    picked, valued = choose(values[None, :], candidates, one([proposed]), rules.pricing)
    pick, is_valued = int(picked[0]), bool(valued[0])
    recommended = proposed if conflict else float(candidates[0, pick])
    p_recommended = p_proposed if conflict else float(p_candidates[pick])
    verdict = int(
        verdicts(
            one([recommended]),
            one([proposed]),
            one([review or missing or conflict or not is_valued]),
        )[0]
    )
    # The action goes with the renewal as recommended: its cost, eligibility and script see
    # the premium that will be proposed, and the churn risk at that premium.
    row["proposed_premium"] = recommended
    row["p_churn"] = p_recommended
    decision, evaluation = decide_evaluated(
        rules, customer_id, row, scores.uplift, context, history or NO_HISTORY
    )
    action = _policy_offer(
        rules, row, scores.uplift, evaluation, history or NO_HISTORY, context, fired
    )
    outcome = (
        [o[0] for o in outcomes],
        [o[1] for o in outcomes],
        [o[2] for o in outcomes],
        [o[3] for o in outcomes],
    )
    return renewal_verdict(
        rules,
        decision,
        action,
        outcome,
        verdict,
        (current, proposed, recommended, lower, upper),
        (p_proposed, p_recommended),
        (clv, multiplier),
        (conflict, is_valued),
    )


def _policy_offer(
    rules: RuleSet,
    row: dict[str, object],
    uplifts: Mapping[str, float],
    evaluation: RowEvaluation,
    history: ContactHistory,
    context: Context,
    fired: list[bool],
) -> Candidate | None:
    for policy, holds in zip(rules.price_policies, fired, strict=True):
        if not holds or policy.offer is None:
            continue
        action, lead = rules.action(policy.offer), policy_offer_reason(policy)
        offer = offer_without_value(rules, action, row, uplifts, evaluation, history, context, lead)
        if offer is not None:
            return offer
    return None
