"""Every action's checks and value for one customer: the hot path of a real-time decision.

One mutable ``row`` dict (features, scores, context) is built per decision and reused for
every action: each action writes its ``uplift``, ``cost`` and parameters into it before its
expressions run, which is safe because an action's expressions were checked against a
schema holding only its own parameters. Checks run in ``Check`` order and stop at the first
failure, so an action that does not apply to the channel costs a set lookup, not an
expression.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from engine.rules import CompiledAction, ContactPolicyRule, RuleSet

from .codes import Check
from .inputs import ContactHistory, Context, Scores, as_utc_naive

NAN = math.nan


OPEN, LIMIT_REACHED, COOLING_DOWN = 0, 1, 2
"""Contact states: anything may be offered; the window's offer limit is reached; the
customer declined an offer within the cool-down."""


@dataclass(slots=True)
class RowEvaluation:
    checks: list[Check]
    failed_guardrail: list[str | None]
    uplift: list[float]
    cost: list[float]
    value: list[float]
    score: list[float]
    fired: list[bool]
    """Per context weight of the rule set: whether its condition held."""
    contact: int
    now: datetime


def customer_row(
    features: Mapping[str, object], scores: Scores, context: Context
) -> dict[str, object]:
    """The names expressions read: features, then scores and context on top."""
    row = dict(features)
    row["p_churn"] = scores.p_churn
    row["clv"] = scores.clv
    row["margin"] = scores.margin
    row["channel"] = context.channel
    row["intent"] = context.intent
    row["event"] = context.event
    return row


def contact_state(policy: ContactPolicyRule | None, history: ContactHistory, now: datetime) -> int:
    if policy is None:
        return OPEN
    declined = history.last_decline_at
    if declined is not None and now - as_utc_naive(declined) < policy.cooldown:
        return COOLING_DOWN
    if history.offers_since(now - policy.window) >= policy.max_offers:
        return LIMIT_REACHED
    return OPEN


def evaluate_row(
    rules: RuleSet,
    row: dict[str, object],
    uplifts: Mapping[str, float],
    context: Context,
    history: ContactHistory,
) -> RowEvaluation:
    now = as_utc_naive(context.now)
    today = now.date()
    contact = contact_state(rules.contact_policy, history, now)
    fired = [weight.when.evaluate(row) for weight in rules.context_weights]
    weights = rules.context_weights
    channel, event, clv = context.channel, context.event, _number(row.get("clv"))
    guardrails = rules.guardrails
    formula = None if rules.formula_is_expected_value else rules.formula.evaluate
    count = len(rules.actions)
    checks = [Check.OFFERED] * count
    failed: list[str | None] = [None] * count
    uplift, cost, value, score = [NAN] * count, [NAN] * count, [NAN] * count, [NAN] * count
    for i, action in enumerate(rules.actions):
        if not action.valid_on(today):
            checks[i] = Check.NOT_VALID_NOW
            continue
        if action.channels is not None and channel not in action.channels:
            checks[i] = Check.CHANNEL
            continue
        if action.events is not None and event not in action.events:
            checks[i] = Check.EVENT
            continue
        if contact:
            checks[i] = Check.CONTACT_POLICY
            continue
        cap = action.per_customer_cap
        if cap is not None and history.offers_since(now - cap.window, action.id) >= cap.max_offers:
            checks[i] = Check.FREQUENCY_CAP
            continue
        u = _number(uplifts.get(action.id))
        if u != u:
            checks[i] = Check.NO_UPLIFT
            continue
        uplift[i] = u
        c = cost[i] = _prepare(action, row, u)
        if not action.eligibility.evaluate(row):
            checks[i] = Check.NOT_ELIGIBLE
            continue
        for g in action.guardrails:
            if not guardrails[g].require.evaluate(row):
                checks[i] = Check.GUARDRAIL
                failed[i] = guardrails[g].id
                break
        if failed[i] is not None:
            continue
        if not 0 <= c < math.inf:
            checks[i] = Check.COST_INVALID
            continue
        ev = value[i] = u * clv - c
        raw = ev if formula is None else formula(row)
        price = action.budget_price * c  # the budget's shadow price: 0 unless declared
        factor = 1.0
        for w in action.weights:
            if fired[w]:
                factor *= weights[w].weight
        s = score[i] = (raw - price) * action.lever * factor
        if not ev > 0:
            checks[i] = Check.NOT_WORTH_IT
        elif not ev > price:
            checks[i] = Check.BELOW_BUDGET_PRICE
        elif not s > rules.min_score:
            checks[i] = Check.BELOW_MIN_SCORE
    return RowEvaluation(checks, failed, uplift, cost, value, score, fired, contact, now)


def qualifies_without_value(
    rules: RuleSet,
    action: CompiledAction,
    row: dict[str, object],
    uplifts: Mapping[str, float],
    evaluation: RowEvaluation,
    history: ContactHistory,
    context: Context,
) -> tuple[float, float]:
    """For the fallback and price-policy offers: every check but uplift and value.

    Returns (uplift, cost) when the action qualifies, (NaN, NaN) when it does not; the
    uplift may be NaN when it qualifies (no score is needed to offer a fallback).
    """
    now = evaluation.now
    if (
        not action.valid_on(now.date())
        or (action.channels is not None and context.channel not in action.channels)
        or (action.events is not None and context.event not in action.events)
        or evaluation.contact
    ):
        return NAN, NAN
    cap = action.per_customer_cap
    if cap is not None and history.offers_since(now - cap.window, action.id) >= cap.max_offers:
        return NAN, NAN
    u = _number(uplifts.get(action.id))
    c = _prepare(action, row, u)
    ok = (
        action.eligibility.evaluate(row)
        and all(rules.guardrails[g].require.evaluate(row) for g in action.guardrails)
        and 0 <= c < math.inf
    )
    return (u, c) if ok else (NAN, NAN)


def _prepare(action: CompiledAction, row: dict[str, object], uplift: float) -> float:
    if action.parameters:
        row.update(action.parameters)
    row["uplift"] = uplift
    c = row["cost"] = action.cost.evaluate(row)
    return c


def _number(value: object) -> float:
    if value is None:
        return NAN
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):  # pandas.NA and other missing markers
        return NAN
