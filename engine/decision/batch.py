"""``decide_frame``: the decision for every row of a DataFrame, vectorised.

Same rules, same answers as ``decide`` row by row (a property test holds them to it), at
numpy speed: checks and values per action over whole columns (``evaluate_frame``), then
ranking, top-K, control group and fallback over the whole matrix. The result keeps the
top-K per row as arrays; ``decision(i)`` builds row ``i``'s full ``Decision`` (with scripts
and reasons) on demand, and ``to_frame()`` gives one row per customer for batch outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.rules import RuleSet

from .codes import Check
from .control import control_group_mask
from .evaluate_frame import FrameEvaluation, evaluate_frame
from .explain import candidate, decision_reasons, fallback_reason, rejections
from .frame_inputs import FrameInputs, prepare
from .inputs import Context, Numbers
from .result import Decision, Reason


@dataclass(frozen=True, slots=True, eq=False)
class BatchDecisions:
    rules: RuleSet
    inputs: FrameInputs
    evaluation: FrameEvaluation
    slots: npt.NDArray[np.int16]
    """(rows, K): action index per rank, -1 where empty; the fallback in rank 0 when used.
    For control-group rows these are the held-back candidates."""
    uplift: Numbers
    cost: Numbers
    value: Numbers
    score: Numbers
    control_group: npt.NDArray[np.bool_]
    fallback_used: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return self.inputs.length

    def decision(self, row: int) -> Decision:
        """Row ``row``'s ``Decision``, equal to what ``decide`` returns for that customer."""
        rules, evaluation = self.rules, self.evaluation
        values = {name: self.inputs.value_at(name, row) for name in self._value_names()}
        fired = evaluation.fired[row].tolist()
        fallback = rules.fallback if self.fallback_used[row] else None
        found = []
        for k, index in enumerate(self.slots[row].tolist()):
            if index < 0:
                break
            numbers = (
                float(self.uplift[row, k]),
                float(self.cost[row, k]),
                float(self.value[row, k]),
                float(self.score[row, k]),
            )
            lead: tuple[Reason, ...] = (fallback_reason(fallback),) if fallback else ()
            found.append(candidate(rules, rules.actions[index], values, numbers, fired, lead))
        control = bool(self.control_group[row])
        failed = [
            rules.guardrails[g].id if g >= 0 else None
            for g in evaluation.failed_guardrail[row].tolist()
        ]
        return Decision(
            customer_id=str(self.inputs.customer_ids[row]),
            candidates=() if control else tuple(found),
            control_group=control,
            fallback_used=fallback is not None,
            rule_set_hash=rules.hash,
            reasons=decision_reasons(
                rules,
                control=control,
                contact=int(evaluation.contact[row]),
                fallback=fallback,
                empty=not found,
            ),
            rejected=rejections(rules, evaluation.checks[row].tolist(), failed),
            held_back=tuple(found) if control else (),
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per customer: ``action_1..K`` with ``expected_value_k``, ``score_k``,
        ``cost_k``, ``uplift_k`` (empty for control rows: see ``held_back_action``),
        ``control_group``, ``fallback_used``, ``contact_blocked``."""
        ids = [action.id for action in self.rules.actions]
        offered = ~self.control_group[:, None]
        data: dict[str, object] = {"customer_id": self.inputs.customer_ids}
        for k in range(self.slots.shape[1]):
            slot = np.where(offered[:, 0], self.slots[:, k], -1)
            data[f"action_{k + 1}"] = labelled(slot, ids)
            for name, array in (
                ("expected_value", self.value),
                ("score", self.score),
                ("cost", self.cost),
                ("uplift", self.uplift),
            ):
                data[f"{name}_{k + 1}"] = np.where(slot >= 0, array[:, k], np.nan)
        held = np.where(self.control_group, self.slots[:, 0], -1)
        data["held_back_action"] = labelled(held, ids)
        data["control_group"] = self.control_group
        data["fallback_used"] = self.fallback_used
        data["contact_blocked"] = self.evaluation.contact != 0
        return pd.DataFrame(data, index=self.inputs.frame.index)

    def _value_names(self) -> set[str]:
        names = {"clv"}
        for action in self.rules.actions:
            names |= action.script.fields
        return names


def labelled(codes: npt.NDArray[np.integer], names: Sequence[str]) -> pd.Categorical[str]:
    """A categorical column of action (or verdict) names from indexes, -1 for empty."""
    index: pd.Index[str] = pd.Index(list(names), dtype=object)
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=index)


def decide_frame(
    rules: RuleSet, frame: pd.DataFrame, context: Context, *, id_column: str = "customer_id"
) -> BatchDecisions:
    """Decide for every row of ``frame`` (columns: see ``frame_inputs``)."""
    return decide_inputs(rules, prepare(rules, frame, context, id_column))


def decide_inputs(rules: RuleSet, inputs: FrameInputs) -> BatchDecisions:
    """``decide_frame`` over prepared columns."""
    evaluation = evaluate_frame(rules, inputs)
    n, count = inputs.length, len(rules.actions)
    k = min(rules.top_k, count)
    checks = evaluation.checks
    offered = checks == Check.OFFERED
    ranking = np.where(offered, evaluation.score, -np.inf)
    order = np.argsort(-ranking, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(count)[None, :], axis=1)
    checks[offered & (rank >= k)] = Check.RANKED_OUT
    top = order[:, :k]
    present = np.take_along_axis(offered, top, axis=1)
    slots = np.where(present, top, -1).astype(np.int16)
    gather = np.where(present, top, 0)

    def pick(matrix: Numbers) -> Numbers:
        return np.where(present, np.take_along_axis(matrix, gather, axis=1), np.nan)

    uplift, cost, value, score = (
        pick(evaluation.uplift),
        pick(evaluation.cost),
        pick(evaluation.value),
        pick(evaluation.score),
    )
    control = control_group_mask(inputs.customer_ids, rules.control_group, n)
    fallback_used = np.zeros(n, dtype=np.bool_)
    fallback = rules.fallback
    if fallback is not None and k > 0:
        i = fallback.index
        fallback_used = ~present[:, 0] & ~control & evaluation.qualifies[:, i]
        slots[fallback_used, 0] = i
        for target, source in (
            (uplift, evaluation.uplift),
            (cost, evaluation.cost),
            (value, evaluation.value),
            (score, evaluation.score),
        ):
            target[fallback_used, 0] = source[fallback_used, i]
    if k == 0:  # a rule set with nothing to rank still answers in the same shape
        slots = np.full((n, 1), -1, dtype=np.int16)
        uplift, cost, value, score = (np.full((n, 1), np.nan) for _ in range(4))
    return BatchDecisions(
        rules, inputs, evaluation, slots, uplift, cost, value, score, control, fallback_used
    )
