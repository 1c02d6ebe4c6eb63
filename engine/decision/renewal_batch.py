"""``check_renewals``: the renewal check for every row of a DataFrame (the monthly run).

Same answers as ``check_renewal`` per row. The frame holds the decision inputs
(``frame_inputs``) plus ``current_premium``, ``proposed_premium`` and optionally
``new_business_premium``; ``p_churn_at`` takes one premium per row and returns one
probability per row (it is called once per candidate premium of ``RuleSet.pricing``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.rules import RuleSet

from .batch import BatchDecisions, decide_inputs, labelled
from .explain import candidate, policy_offer_reason
from .frame_inputs import FrameInputs, prepare
from .inputs import Context, Numbers, PriceResponse
from .pricing import (
    VERDICTS,
    candidate_premiums,
    choose,
    lifetime_multiplier,
    pct_bound,
    renewal_value,
    renewal_verdict,
    verdicts,
)
from .result import Candidate, Reason, RenewalVerdict


@dataclass(frozen=True, slots=True, eq=False)
class RenewalBatch:
    decisions: BatchDecisions
    verdict: npt.NDArray[np.int8]
    """0 approve, 1 adjust, 2 review (``pricing.VERDICTS``)."""
    current: Numbers
    proposed: Numbers
    recommended: Numbers
    p_proposed: Numbers
    p_recommended: Numbers
    fired: npt.NDArray[np.bool_]
    """(rows, price policies)."""
    uppers: Numbers
    lowers: Numbers
    missing: npt.NDArray[np.bool_]
    upper: Numbers
    lower: Numbers
    conflict: npt.NDArray[np.bool_]
    offer_policy: npt.NDArray[np.int16]
    """Per row, the price policy whose offer goes with the renewal, -1 for none."""
    valued: npt.NDArray[np.bool_]
    """Some candidate premium could be valued (lifetime value and churn known)."""
    multiplier: Numbers
    """``pricing.lifetime_multiplier`` per row."""

    def expected_value(self, at: Numbers, p_churn: Numbers) -> Numbers:
        clv = self.decisions.inputs.numbers("clv")
        return renewal_value(p_churn, clv, at, self.current, self.multiplier)

    def to_frame(self) -> pd.DataFrame:
        actions = [action.id for action in self.decisions.rules.actions]
        chosen = np.full(len(self.verdict), -1, dtype=np.int16)
        for i, policy in enumerate(self.decisions.rules.price_policies):
            if policy.offer is not None:
                index = self.decisions.rules.action(policy.offer).index
                chosen[self.offer_policy == i] = index
        chosen = np.where(self.offer_policy >= 0, chosen, self.decisions.slots[:, 0])
        chosen = np.where(self.decisions.control_group, -1, chosen)
        return pd.DataFrame(
            {
                "customer_id": self.decisions.inputs.customer_ids,
                "verdict": labelled(self.verdict, VERDICTS),
                "current_premium": self.current,
                "proposed_premium": self.proposed,
                "recommended_premium": self.recommended,
                "p_churn_at_proposed": self.p_proposed,
                "p_churn_at_recommended": self.p_recommended,
                "expected_value_at_proposed": self.expected_value(self.proposed, self.p_proposed),
                "expected_value_at_recommended": self.expected_value(
                    self.recommended, self.p_recommended
                ),
                "action": labelled(chosen, actions),
                "control_group": self.decisions.control_group,
            },
            index=self.decisions.inputs.frame.index,
        )

    def verdict_at(self, row: int) -> RenewalVerdict:
        """Row ``row``'s ``RenewalVerdict``, equal to what ``check_renewal`` returns."""
        rules, decisions = self.decisions.rules, self.decisions
        decision = decisions.decision(row)
        outcome = (
            self.fired[row].tolist(),
            self.uppers[row].tolist(),
            self.lowers[row].tolist(),
            self.missing[row].tolist(),
        )
        proposed, recommended = float(self.proposed[row]), float(self.recommended[row])
        return renewal_verdict(
            rules,
            decision,
            None if decision.control_group else self._offer(row),
            outcome,
            int(self.verdict[row]),
            (float(self.current[row]), proposed, recommended, float(self.lower[row]),
             float(self.upper[row])),
            (float(self.p_proposed[row]), float(self.p_recommended[row])),
            (float(decisions.inputs.numbers("clv")[row]), float(self.multiplier[row])),
            (bool(self.conflict[row]), bool(self.valued[row])),
        )  # fmt: skip

    def _offer(self, row: int) -> Candidate | None:
        index = int(self.offer_policy[row])
        if index < 0:
            return None
        decisions, rules = self.decisions, self.decisions.rules
        policy = rules.price_policies[index]
        action = rules.action(policy.offer or "")
        i = action.index
        evaluation = decisions.evaluation
        numbers = (
            float(evaluation.uplift[row, i]),
            float(evaluation.cost[row, i]),
            float(evaluation.value[row, i]),
            float(evaluation.score[row, i]),
        )
        values = {
            name: decisions.inputs.value_at(name, row) for name in action.script.fields | {"clv"}
        }
        fired = evaluation.fired[row].tolist()
        lead: tuple[Reason, ...] = (policy_offer_reason(policy),)
        return candidate(rules, action, values, numbers, fired, lead)


def check_renewals(
    rules: RuleSet,
    frame: pd.DataFrame,
    p_churn_at: PriceResponse,
    context: Context,
    *,
    id_column: str = "customer_id",
) -> RenewalBatch:
    for required in ("current_premium", "proposed_premium"):
        if required not in frame.columns:
            raise KeyError(f"a renewal batch needs a {required!r} column")
    base = prepare(rules, frame, context, id_column)
    n = base.length
    current, proposed = base.numbers("current_premium"), base.numbers("proposed_premium")
    p_current = np.asarray(p_churn_at(current), dtype=np.float64)
    p_proposed = np.asarray(p_churn_at(proposed), dtype=np.float64)
    columns = dict(base.columns)
    columns.update(
        current_premium=current,
        proposed_premium=proposed,
        new_business_premium=base.numbers("new_business_premium"),
        p_churn_at_proposed=p_proposed,
        p_churn_at_current=p_current,
    )
    inputs = FrameInputs(n, columns, base.customer_ids, base.now, frame)
    policies = rules.price_policies
    count = len(policies)
    fired = np.zeros((n, count), dtype=np.bool_)
    uppers, lowers = np.full((n, count), np.inf), np.full((n, count), -np.inf)
    missing = np.zeros((n, count), dtype=np.bool_)
    review = np.zeros(n, dtype=np.bool_)
    for j, policy in enumerate(policies):
        holds = fired[:, j] = policy.when.evaluate_frame(columns)
        bounds = []
        if policy.max_change_pct is not None:
            bounds.append(("upper", pct_bound(current, policy.max_change_pct)))
        if policy.max_premium is not None:
            bounds.append(("upper", policy.max_premium.evaluate_frame(columns)))
        if policy.min_premium is not None:
            bounds.append(("lower", policy.min_premium.evaluate_frame(columns)))
        for side, bound in bounds:
            missing[:, j] |= holds & np.isnan(bound)
            if side == "upper":
                uppers[:, j] = np.where(holds & (bound < uppers[:, j]), bound, uppers[:, j])
            else:
                lowers[:, j] = np.where(holds & (bound > lowers[:, j]), bound, lowers[:, j])
        if policy.review:
            review |= holds
    upper, lower = np.full(n, np.inf), np.full(n, -np.inf)
    for j in range(count):
        upper = np.where(uppers[:, j] < upper, uppers[:, j], upper)
        lower = np.where(lowers[:, j] > lower, lowers[:, j], lower)
    conflict = lower > upper
    clv = base.numbers("clv")
    multiplier = lifetime_multiplier(clv, base.numbers("margin"))
    candidates = candidate_premiums(current, proposed, lower, upper, rules.pricing)
    p_candidates = np.column_stack(
        [
            np.asarray(p_churn_at(candidates[:, j]), dtype=np.float64)
            for j in range(candidates.shape[1])
        ]
    )
    values = renewal_value(
        p_candidates, clv[:, None], candidates, current[:, None], multiplier[:, None]
    )
    pick, valued = choose(values, candidates, proposed, rules.pricing)
    chosen = np.take_along_axis(candidates, pick[:, None], axis=1)[:, 0]
    p_chosen = np.take_along_axis(p_candidates, pick[:, None], axis=1)[:, 0]
    recommended = np.where(conflict, proposed, chosen)
    p_recommended = np.where(conflict, p_proposed, p_chosen)
    verdict = verdicts(recommended, proposed, review | missing.any(axis=1) | conflict | ~valued)
    # As in check_renewal: the action is chosen at the recommended premium.
    columns.update(proposed_premium=recommended, p_churn=p_recommended)
    decisions = decide_inputs(rules, inputs)
    offer_policy = np.full(n, -1, dtype=np.int16)
    for j, policy in enumerate(policies):
        if policy.offer is not None:
            i = rules.action(policy.offer).index
            take = (offer_policy < 0) & fired[:, j] & decisions.evaluation.qualifies[:, i]
            offer_policy[take] = j
    return RenewalBatch(
        decisions, verdict, current, proposed, recommended, p_proposed, p_recommended,
        fired, uppers, lowers, missing, upper, lower, conflict, offer_policy, valued, multiplier,
    )  # fmt: skip
