"""Every action's checks and value for every row of a batch, with numpy over whole columns.

This mirrors ``evaluate_row`` check for check: each check becomes a boolean column, and
``numpy.select`` picks, per row, the first one that failed in ``Check`` order, so a batch
row gets exactly the code a single decision would. Expressions run over all rows (a row
that failed an earlier check simply ignores the result), which is what makes them cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.rules import CompiledAction, RuleSet

from .codes import Check
from .evaluate_row import COOLING_DOWN, LIMIT_REACHED, OPEN
from .frame_inputs import (
    ACTION_OFFERS_PREFIX,
    LAST_DECLINE_AT,
    OFFERS_IN_WINDOW,
    UPLIFT_PREFIX,
    FrameInputs,
    as_numbers,
    datetimes,
    member,
)
from .inputs import Numbers

Mask = npt.NDArray[np.bool_]


@dataclass(slots=True)
class FrameEvaluation:
    checks: npt.NDArray[np.int8]
    """(rows, actions): the first failed ``Check`` per row and action (0: offered)."""
    failed_guardrail: npt.NDArray[np.int16]
    """(rows, actions): index of the first guardrail that failed, -1 if none."""
    qualifies: Mask
    """(rows, actions): passes every check except uplift and value (fallback, offers)."""
    uplift: Numbers
    cost: Numbers
    value: Numbers
    """(rows, actions): NaN where a single decision would not have computed it."""
    score: Numbers
    fired: Mask
    """(rows, context weights)."""
    contact: npt.NDArray[np.int8]


def evaluate_frame(rules: RuleSet, inputs: FrameInputs) -> FrameEvaluation:
    n, count = inputs.length, len(rules.actions)
    columns = inputs.columns
    contact = _contact_state(rules, inputs)
    fired = np.zeros((n, len(rules.context_weights)), dtype=np.bool_)
    for j, weight in enumerate(rules.context_weights):
        fired[:, j] = weight.when.evaluate_frame(columns)
    evaluation = FrameEvaluation(
        checks=np.zeros((n, count), dtype=np.int8),
        failed_guardrail=np.full((n, count), -1, dtype=np.int16),
        qualifies=np.zeros((n, count), dtype=np.bool_),
        uplift=np.full((n, count), np.nan),
        cost=np.full((n, count), np.nan),
        value=np.full((n, count), np.nan),
        score=np.full((n, count), np.nan),
        fired=fired,
        contact=contact,
    )
    clv = inputs.numbers("clv")
    for i, action in enumerate(rules.actions):
        _evaluate_action(rules, inputs, evaluation, i, action, clv)
    return evaluation


def _evaluate_action(
    rules: RuleSet,
    inputs: FrameInputs,
    out: FrameEvaluation,
    i: int,
    action: CompiledAction,
    clv: Numbers,
) -> None:
    n, columns = inputs.length, inputs.columns
    valid = np.full(n, action.valid_on(inputs.now.date()))
    channel = member(columns["channel"], action.channels, n)
    event = member(columns["event"], action.events, n)
    blocked = out.contact != OPEN
    capped = np.zeros(n, dtype=np.bool_)
    cap = action.per_customer_cap
    if cap is not None:
        offers = as_numbers(inputs.frame.get(ACTION_OFFERS_PREFIX + action.id), n)
        capped = np.nan_to_num(offers, nan=0.0) >= cap.max_offers
    uplift = as_numbers(inputs.frame.get(UPLIFT_PREFIX + action.id), n)
    context: dict[str, object] = {**action.parameters, "uplift": uplift}
    cost = action.cost.evaluate_frame(columns, context)
    context["cost"] = cost
    eligible = action.eligibility.evaluate_frame(columns, context)
    failed = out.failed_guardrail[:, i]
    for g in action.guardrails:
        holds = rules.guardrails[g].require.evaluate_frame(columns, context)
        failed[(failed < 0) & ~holds] = g
    cost_ok = (cost >= 0) & (cost < np.inf)
    with np.errstate(invalid="ignore"):
        value = uplift * clv - cost
        raw = (
            value
            if rules.formula_is_expected_value
            else rules.formula.evaluate_frame(columns, context)
        )
        factor = np.ones(n)
        for w in action.weights:
            factor = np.where(out.fired[:, w], factor * rules.context_weights[w].weight, factor)
        price = action.budget_price * cost  # the budget's shadow price: 0 unless declared
        score = (raw - price) * action.lever * factor
    missing_uplift = np.isnan(uplift)
    conditions = [
        ~valid,
        ~channel,
        ~event,
        blocked,
        capped,
        missing_uplift,
        ~eligible,
        failed >= 0,
        ~cost_ok,
        ~(value > 0),
        ~(value > price),
        ~(score > rules.min_score),
    ]
    checks = np.select(conditions, [int(c) for c in Check][1 : len(conditions) + 1], 0)
    out.checks[:, i] = checks
    out.qualifies[:, i] = (
        valid & channel & event & ~blocked & ~capped & eligible & (failed < 0) & cost_ok
    )
    out.uplift[:, i] = uplift
    out.cost[:, i] = cost
    valued = (checks == Check.OFFERED) | (checks >= Check.NOT_WORTH_IT)
    out.value[:, i] = np.where(valued, value, np.nan)
    out.score[:, i] = np.where(valued, score, np.nan)


def _contact_state(rules: RuleSet, inputs: FrameInputs) -> npt.NDArray[np.int8]:
    n = inputs.length
    state = np.zeros(n, dtype=np.int8)
    policy = rules.contact_policy
    if policy is None:
        return state
    offers = as_numbers(inputs.frame.get(OFFERS_IN_WINDOW), n)
    state[np.nan_to_num(offers, nan=0.0) >= policy.max_offers] = LIMIT_REACHED
    declined = inputs.frame.get(LAST_DECLINE_AT)
    if declined is not None:
        since = np.datetime64(inputs.now, "ns") - datetimes(declined, n)
        cooling = since < np.timedelta64(policy.cooldown)
        state[cooling] = COOLING_DOWN  # NaT compares False: never declined
    return state
