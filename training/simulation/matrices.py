"""Per customer and per action of a rule set: what is allowed, booked cost, expected and true value.

Every policy of a simulation picks from these (rows × actions) matrices, so all of them are
charged and valued the same way (see the package docstring for the definitions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.decision import BatchDecisions, Check, Context, decide_frame
from engine.rules import CompiledAction, RuleSet
from engine.scoring.value import ValueModel
from training.simulation.book import TRUTH_NONE, TRUTH_PREFIX, has_truth

Numbers = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

# The premium the generator takes off for its price actions (training/SYNTH.md, "What the
# actions do"); kept here, not read from the rule file, so a rule set cannot understate it.
_DISCOUNT_SHARE: Final = {"loyalty_discount_5": 0.05, "loyalty_discount_10": 0.10}
_FREEZE: Final = "premium_freeze"
_BLOCKED: Final = (
    Check.NOT_VALID_NOW,
    Check.CHANNEL,
    Check.EVENT,
    Check.CONTACT_POLICY,
    Check.FREQUENCY_CAP,
)


@dataclass(frozen=True, slots=True)
class TrueValues:
    valued: Mask
    """(actions,): the generator models the action (it has a truth column)."""
    reduction: Numbers
    """(rows, actions): true churn reduction p0 − pa (0 for actions the truth lacks)."""
    cost: Numbers
    net_value: Numbers
    value_if_retained: Numbers
    """(rows,): V, the lifetime value of the true renewal margin."""


@dataclass(frozen=True, slots=True)
class ActionMatrices:
    rules: RuleSet
    batch: BatchDecisions
    ids: tuple[str, ...]
    allowed: Mask
    """(rows, actions): the context allows it (validity dates, channel, event, contacts)."""
    qualifies: Mask
    """(rows, actions): allowed, eligible, guardrails hold, booked cost valid."""
    booked_cost: Numbers
    uplift: Numbers
    expected_value: Numbers
    p_churn: Numbers
    truth: TrueValues | None

    @property
    def rows(self) -> int:
        return len(self.p_churn)


def action_matrices(
    rules: RuleSet, frame: pd.DataFrame, context: Context, value: ValueModel
) -> ActionMatrices:
    batch = decide_frame(rules, frame, context)
    evaluation, inputs = batch.evaluation, batch.inputs
    allowed = ~np.isin(evaluation.checks, [int(c) for c in _BLOCKED])
    clv = inputs.numbers("clv")
    with np.errstate(invalid="ignore"):
        expected = evaluation.uplift * clv[:, None] - evaluation.cost
    truth = true_values(rules, batch, frame, value) if has_truth(frame) else None
    return ActionMatrices(
        rules=rules,
        batch=batch,
        ids=tuple(action.id for action in rules.actions),
        allowed=allowed,
        qualifies=evaluation.qualifies,
        booked_cost=evaluation.cost,
        uplift=evaluation.uplift,
        expected_value=expected,
        p_churn=inputs.numbers("p_churn"),
        truth=truth,
    )


def lifetime_value(frame: pd.DataFrame, value: ValueModel, premium: Numbers) -> Numbers:
    """Lifetime value if retained, of the true margin at ``premium`` for every year."""
    margin = (
        premium
        - frame["expected_claims_cost"].to_numpy(dtype=np.float64)
        - frame["cost_to_serve"].to_numpy(dtype=np.float64)
    )
    return value.clv(frame, margin)


def true_values(
    rules: RuleSet, batch: BatchDecisions, frame: pd.DataFrame, value: ValueModel
) -> TrueValues:
    n, count = len(frame), len(rules.actions)
    proposed = frame["proposed_premium"].to_numpy(dtype=np.float64)
    current = frame["annual_premium"].to_numpy(dtype=np.float64)
    p0 = frame[TRUTH_NONE].to_numpy(dtype=np.float64)
    v = lifetime_value(frame, value, proposed)
    valued = np.zeros(count, dtype=np.bool_)
    reduction = np.zeros((n, count))
    cost = np.zeros((n, count))
    columns = dict(batch.inputs.columns)
    columns["p_churn"] = p0  # the rule's cost expressions, fed the truth instead of the model
    for i, action in enumerate(rules.actions):
        truth_column = TRUTH_PREFIX + action.id
        if truth_column in frame.columns:
            valued[i] = True
            reduction[:, i] = p0 - frame[truth_column].to_numpy(dtype=np.float64)
        cost[:, i] = _true_cost(action, columns, reduction[:, i], p0, proposed, current)
    net = reduction * v[:, None] - cost
    return TrueValues(valued, reduction, cost, net, v)


def _true_cost(
    action: CompiledAction,
    columns: dict[str, object],
    reduction: Numbers,
    p0: Numbers,
    proposed: Numbers,
    current: Numbers,
) -> Numbers:
    renews = 1.0 - (p0 - reduction)  # 1 − pa: who pays the (reduced) premium
    if action.id in _DISCOUNT_SHARE:
        return np.asarray(_DISCOUNT_SHARE[action.id] * proposed * renews, dtype=np.float64)
    if action.id == _FREEZE:
        return np.asarray(np.maximum(proposed - current, 0.0) * renews, dtype=np.float64)
    context: dict[str, object] = {**action.parameters, "uplift": reduction}
    other = np.asarray(action.cost.evaluate_frame(columns, context), dtype=np.float64)
    return np.broadcast_to(np.nan_to_num(other, nan=0.0), reduction.shape).copy()
