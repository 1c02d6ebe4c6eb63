"""Candidates and reasons, built the same way for a single decision and for a batch row.

Both evaluators hand over plain numbers and flags; this module turns them into the frozen
result values, so that ``decide`` and ``BatchDecisions.decision(i)`` cannot word a reason
differently.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence

from engine.rules import CompiledAction, CompiledPricePolicy, RuleSet

from .codes import CODES, Check
from .evaluate_row import COOLING_DOWN, LIMIT_REACHED, RowEvaluation, qualifies_without_value
from .inputs import ContactHistory, Context
from .result import Candidate, Reason, Rejection


def candidate(
    rules: RuleSet,
    action: CompiledAction,
    values: Mapping[str, object],
    numbers: tuple[float, float, float, float],
    fired: Sequence[bool],
    lead: tuple[Reason, ...] = (),
) -> Candidate:
    """``numbers`` are (uplift, cost, expected value, score); NaN where missing.

    ``values`` must hold what the action's script reads (fields, scores, context); the
    action's parameters, uplift and cost are added here.
    """
    uplift, cost, value, score = numbers
    clv = _float(values.get("clv"))
    reasons = [*lead, _reason("eligible", action.id, action.reason)]
    for index in action.weights:
        if fired[index]:
            weight = rules.context_weights[index]
            text = with_detail(weight.reason, f"×{weight.weight:g}")
            reasons.append(_reason("context_weight", weight.id, text))
    if action.lever != 1.0:
        reasons.append(_reason("lever", action.group, f"business lever ×{action.lever:g}"))
    if value == value:
        reasons.append(
            Reason(
                "expected_value",
                action.id,
                f"expected net value {value:,.2f} = uplift {uplift:.3f} × lifetime value "
                f"{clv:,.2f} − cost {cost:,.2f}",
            )
        )
    if action.budget_price and value == value and cost > 0:
        text = (
            f"expected net value {value / cost:,.2f} per unit of cost, above the"
            f" {action.budget} budget's price of {action.budget_price:g}"
        )
        reasons.append(Reason("budget_price", action.budget, text))
    overrides = {**action.parameters, "uplift": uplift, "cost": cost}
    return Candidate(
        action_id=action.id,
        kind=action.kind,
        group=action.group,
        parameters=action.parameters,
        script=action.script.render(values, overrides),
        expected_value=optional(value),
        score=optional(score),
        uplift=optional(uplift),
        cost=cost,
        budget=action.budget,
        reasons=tuple(reasons),
    )


def with_detail(text: str, detail: str) -> str:
    """``"No increase (at most 812.00)"`` from ``"No increase."`` and ``"at most 812.00"``."""
    return f"{text.rstrip().rstrip('.')} ({detail})"


def fallback_reason(action: CompiledAction) -> Reason:
    return Reason("fallback", action.id, "nothing else is worth offering: fallback action")


def policy_offer_reason(policy: CompiledPricePolicy) -> Reason:
    return Reason("price_policy_offer", policy.id, policy.reason)


def rejections(
    rules: RuleSet, checks: Sequence[int], failed: Sequence[str | None]
) -> tuple[Rejection, ...]:
    return tuple(
        _rejection(action.id, checks[i], failed[i] if checks[i] == Check.GUARDRAIL else None)
        for i, action in enumerate(rules.actions)
        if checks[i] != Check.OFFERED
    )


@functools.lru_cache(maxsize=4096)
def _rejection(action_id: str, check: int, rule: str | None) -> Rejection:
    # Immutable values from a small set: shared rather than rebuilt for every decision.
    return Rejection(action_id, CODES[check], rule)


@functools.lru_cache(maxsize=4096)
def _reason(code: str, rule: str | None, text: str) -> Reason:
    return Reason(code, rule, text)


def decision_reasons(
    rules: RuleSet, *, control: bool, contact: int, fallback: CompiledAction | None, empty: bool
) -> tuple[Reason, ...]:
    reasons: list[Reason] = []
    if control and rules.control_group is not None:
        share = rules.control_group.share
        reasons.append(
            Reason(
                "control_group",
                None,
                f"held out in the control group ({share:.0%} of customers): no offer, so the"
                " effect of offers can be measured",
            )
        )
    policy = rules.contact_policy
    if policy is not None and contact == COOLING_DOWN:
        days = policy.cooldown.days
        reasons.append(
            Reason("contact_policy", "cooldown", f"declined an offer less than {days} days ago")
        )
    elif policy is not None and contact == LIMIT_REACHED:
        text = f"already {policy.max_offers} offers in the last {policy.window.days} days"
        reasons.append(Reason("contact_policy", "max_offers", text))
    if fallback is not None:
        reasons.append(fallback_reason(fallback))
    elif empty and not control and not contact:
        no_action = rules.no_action.id if rules.no_action else None
        text = "no action has a positive expected net value: do nothing"
        reasons.append(Reason("no_action", no_action, text))
    return tuple(reasons)


def optional(number: float) -> float | None:
    """None for a number that could not be computed (NaN), so results compare equal."""
    return None if number != number else number


def _float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def offer_without_value(
    rules: RuleSet,
    action: CompiledAction,
    row: dict[str, object],
    uplifts: Mapping[str, float],
    evaluation: RowEvaluation,
    history: ContactHistory,
    context: Context,
    lead: Reason,
) -> Candidate | None:
    """The fallback's or a price policy's own offer, led by ``lead``: every check but uplift
    and value (``qualifies_without_value``); None when the action does not qualify."""
    uplift, cost = qualifies_without_value(
        rules, action, row, uplifts, evaluation, history, context
    )
    if cost != cost:
        return None
    i = action.index
    numbers = (uplift, cost, evaluation.value[i], evaluation.score[i])
    return candidate(rules, action, row, numbers, evaluation.fired, (lead,))
