"""Renewal price policies and the value-seeking premium: bounds, candidates, verdict, reasons.

Each policy whose ``when`` holds may set an upper bound (``max_change_pct`` over the current
premium and/or ``max_premium``), a lower bound (``min_premium``), ask for review, or name an
offer. Inside the combined bounds [highest lower bound, lowest upper bound] the check looks
for the premium worth most: it values a grid of candidate premiums (``RuleSet.pricing``, set
by the rule file's ``pricing`` section: the proposed premium clipped into the bounds, the
current premium, the bounds themselves and ``changes_pct`` over the current premium; never
above the proposed premium by more than ``max_above_proposed_pct``), all rounded to cents,
with the churn model rescored at each.

The expected value of renewing at premium P is::

    (1 − p_churn(P)) × (clv + (P − current premium) × clv / margin)

``clv`` is the lifetime value at current terms and ``clv / margin`` the value of one unit of
annual margin over the horizon (the value model is linear in the margin; 1 when the margin
is zero or unknown): a renewal price is permanent, so the price change holds every year.

The verdict is

* ``review`` when a review policy fired, a fired policy's bound is missing (e.g. no
  new-business premium), the bounds conflict (floor above cap: the recommended premium
  then stays the proposed one) or no premium can be valued (no lifetime value or churn);
  otherwise the recommended premium is the one ``approve`` / ``adjust`` would give;
* ``approve`` when the proposed premium is inside the bounds and its expected value is
  within the tolerance (``max(tolerance_amount, tolerance_pct × |best value|)``) of the
  best candidate's: the recommended premium is the proposed one;
* ``adjust`` otherwise, to the best candidate.

Per customer and per batch run the same array code (``candidate_premiums``, ``choose``), so
both give the same answers to the last bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from engine.rules import CompiledPricePolicy, PriceSearch, RuleSet

from .explain import optional, with_detail
from .inputs import Numbers
from .result import Candidate, Decision, Reason, RenewalVerdict, Verdict

Amount = TypeVar("Amount", float, Numbers)

APPROVE, ADJUST, REVIEW = 0, 1, 2
VERDICTS: tuple[Verdict, ...] = ("approve", "adjust", "review")
INF = math.inf
HALF_CENT = 0.005
PROPOSED = 0
"""Column of ``candidate_premiums`` holding the proposed premium (clipped into the bounds)."""


def pct_bound(current: Amount, pct: float) -> Amount:
    return current * (1.0 + pct / 100.0)


def cents(amount: float) -> float:
    """Round to cents as ``numpy.round(x, 2)`` does (scale, round half to even, unscale)."""
    return round(amount * 100.0) / 100.0 if math.isfinite(amount) else amount


def lifetime_multiplier(clv: Amount, margin: Amount) -> Amount:
    """Lifetime value of one unit of annual margin: ``clv / margin`` (1 if not defined)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.asarray(clv, dtype=np.float64) / np.asarray(margin, dtype=np.float64)
    found = np.where(np.isfinite(ratio), ratio, 1.0)
    if isinstance(clv, float):
        return float(found)
    return found


def renewal_value(
    p_churn: Amount, clv: Amount, premium: Amount, current: Amount, multiplier: Amount
) -> Amount:
    """The same operations in the same order for a customer (floats) and a batch (arrays)."""
    return (1.0 - p_churn) * (clv + (premium - current) * multiplier)


def policy_bounds(
    policy: CompiledPricePolicy, row: dict[str, object], current: float
) -> tuple[bool, float, float, bool]:
    """(fired, upper, lower, missing) of one policy for one customer (±inf: no bound)."""
    if not policy.when.evaluate(row):
        return False, INF, -INF, False
    upper, lower, missing = INF, -INF, False
    if policy.max_change_pct is not None:
        bound = pct_bound(current, policy.max_change_pct)
        missing |= bound != bound
        upper = bound if bound < upper else upper
    if policy.max_premium is not None:
        bound = policy.max_premium.evaluate(row)
        missing |= bound != bound
        upper = bound if bound < upper else upper
    if policy.min_premium is not None:
        bound = policy.min_premium.evaluate(row)
        missing |= bound != bound
        lower = bound if bound > lower else lower
    return True, upper, lower, missing


def candidate_premiums(
    current: Numbers, proposed: Numbers, lower: Numbers, upper: Numbers, search: PriceSearch
) -> Numbers:
    """(rows, candidates): column ``PROPOSED`` the proposed premium clipped into the bounds,
    then the current premium, the bounds and the grid, all clipped and rounded to cents."""
    ceiling = upper
    if search.max_above_proposed_pct is not None:
        ceiling = np.minimum(ceiling, pct_bound(proposed, search.max_above_proposed_pct))
    ceiling = np.maximum(ceiling, lower)  # a floor above the proposed premium still holds
    columns = [
        proposed,
        current,
        lower,
        upper,
        *(pct_bound(current, c) for c in search.changes_pct),
    ]
    raw = np.column_stack(columns)
    raw = np.where(np.isfinite(raw), raw, proposed[:, None])
    clipped = np.minimum(np.maximum(raw, lower[:, None]), ceiling[:, None])
    return np.where(np.isfinite(clipped), np.rint(clipped * 100.0) / 100.0, clipped)


def choose(
    values: Numbers, candidates: Numbers, proposed: Numbers, search: PriceSearch
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    """(column chosen per row, valued): the proposed premium when inside the bounds and
    near-optimal (or when nothing can be valued), else the best candidate."""
    safe = np.where(np.isnan(values), -np.inf, values)
    best = np.argmax(safe, axis=1)
    top = np.take_along_axis(safe, best[:, None], axis=1)[:, 0]
    valued = np.isfinite(top)
    tolerance = np.maximum(search.tolerance_amount, search.tolerance_pct / 100.0 * np.abs(top))
    inside = np.abs(candidates[:, PROPOSED] - proposed) < HALF_CENT
    near = safe[:, PROPOSED] >= top - tolerance
    return np.where((inside & near) | ~valued, PROPOSED, best), valued


def verdicts(
    recommended: Numbers, proposed: Numbers, review: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int8]:
    verdict = np.where(np.abs(recommended - proposed) < HALF_CENT, APPROVE, ADJUST)
    return np.where(review, REVIEW, verdict).astype(np.int8)


def renewal_reasons(
    policies: Sequence[CompiledPricePolicy],
    outcome: tuple[Sequence[bool], Sequence[float], Sequence[float], Sequence[bool]],
    verdict: int,
    prices: tuple[float, float, float, float],
    flags: tuple[bool, bool],
    values: tuple[float, float],
) -> list[Reason]:
    """``prices`` are (proposed, recommended, combined lower, combined upper); ``flags``
    (conflict, valued); ``values`` the expected values at (proposed, recommended)."""
    fired, uppers, lowers, missing = outcome
    proposed, recommended, lower, upper = prices
    conflict, valued = flags
    reasons: list[Reason] = []
    for i, policy in enumerate(policies):
        if not fired[i]:
            continue
        if missing[i]:
            text = f"cannot evaluate the premium bound of {policy.id}: a value is missing"
            reasons.append(Reason("review", policy.id, text))
        if uppers[i] < INF and uppers[i] == upper and proposed > upper and not conflict:
            text = with_detail(policy.reason, f"at most {upper:,.2f}")
            reasons.append(Reason("price_cap", policy.id, text))
        if lowers[i] > -INF and lowers[i] == lower and proposed < lower and not conflict:
            text = with_detail(policy.reason, f"at least {lower:,.2f}")
            reasons.append(Reason("price_floor", policy.id, text))
        if policy.review:
            reasons.append(Reason("review", policy.id, policy.reason))
    if conflict:
        text = f"price policies conflict: floor {lower:,.2f} is above cap {upper:,.2f}"
        reasons.append(Reason("review", None, text))
    if not valued:
        text = "cannot value the renewal premiums: lifetime value or churn is missing"
        reasons.append(Reason("review", None, text))
    at_proposed, at_recommended = values
    if verdict == APPROVE:
        reasons.append(Reason("approve", None, "the proposed premium satisfies every price policy"))
    elif verdict == ADJUST:
        text = f"recommended premium {recommended:,.2f} instead of {proposed:,.2f}"
        if at_recommended == at_recommended and at_proposed == at_proposed:
            text += f" (expected value {at_recommended:,.2f} instead of {at_proposed:,.2f})"
        reasons.append(Reason("adjust", None, text))
    return reasons


def renewal_verdict(
    rules: RuleSet,
    decision: Decision,
    offer: Candidate | None,
    outcome: tuple[Sequence[bool], Sequence[float], Sequence[float], Sequence[bool]],
    verdict: int,
    premiums: tuple[float, float, float, float, float],
    churn: tuple[float, float],
    worth: tuple[float, float],
    flags: tuple[bool, bool],
) -> RenewalVerdict:
    """One customer's verdict, shared by the per-request and the batch renewal checks.

    ``premiums``: (current, proposed, recommended, combined lower, combined upper);
    ``churn``: the churn probability at (proposed, recommended); ``worth``: (clv, lifetime
    multiplier); ``flags``: (conflict, valued); ``offer``: a price policy's own offer, else
    the decision's best action goes with the renewal (none in the control group)."""
    current, proposed, recommended, lower, upper = premiums
    p_proposed, p_recommended = churn
    clv, multiplier = worth
    at_proposed = renewal_value(p_proposed, clv, proposed, current, multiplier)
    at_recommended = renewal_value(p_recommended, clv, recommended, current, multiplier)
    reasons = renewal_reasons(
        rules.price_policies,
        outcome,
        verdict,
        (proposed, recommended, lower, upper),
        flags,
        (at_proposed, at_recommended),
    )
    control = tuple(r for r in decision.reasons if r.code == "control_group")
    return RenewalVerdict(
        customer_id=decision.customer_id,
        verdict=VERDICTS[verdict],
        current_premium=current,
        proposed_premium=proposed,
        recommended_premium=recommended,
        p_churn_at_proposed=optional(p_proposed),
        p_churn_at_recommended=optional(p_recommended),
        expected_value_at_proposed=optional(at_proposed),
        expected_value_at_recommended=optional(at_recommended),
        action=None if decision.control_group else (offer or decision.best),
        policies=tuple(p.id for p, f in zip(rules.price_policies, outcome[0], strict=True) if f),
        reasons=tuple(reasons) + control,
        control_group=decision.control_group,
        rule_set_hash=rules.hash,
    )
