"""Renewal price policies: bounds per policy, the recommended premium, the verdict, reasons.

Each policy whose ``when`` holds may set an upper bound (``max_change_pct`` over the current
premium and/or ``max_premium``), a lower bound (``min_premium``), ask for review, or name an
offer. The recommended premium is the proposed one clipped into [highest lower bound,
lowest upper bound], rounded to cents. The verdict is

* ``review`` when a review policy fired, a fired policy's bound is missing (e.g. no
  new-business premium), or the bounds conflict (floor above cap: then the recommended
  premium stays the proposed one, for a person to decide);
* else ``approve`` when the recommended premium is the proposed one (within half a cent),
  ``adjust`` otherwise.

The expected value of renewing at premium P is (1 − p_churn(P)) × (clv + P − current
premium): the lifetime value at current terms, corrected by the coming year's price change,
weighted by the chance the customer renews at P.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

from engine.rules import CompiledPricePolicy

from .explain import with_detail
from .inputs import Numbers
from .result import Reason, Verdict

Amount = TypeVar("Amount", float, Numbers)

APPROVE, ADJUST, REVIEW = 0, 1, 2
VERDICTS: tuple[Verdict, ...] = ("approve", "adjust", "review")
INF = math.inf


def pct_bound(current: Amount, pct: float) -> Amount:
    return current * (1.0 + pct / 100.0)


def cents(amount: float) -> float:
    """Round to cents as ``numpy.round(x, 2)`` does (scale, round half to even, unscale)."""
    return round(amount * 100.0) / 100.0 if math.isfinite(amount) else amount


def renewal_value(p_churn: Amount, clv: Amount, premium: Amount, current: Amount) -> Amount:
    """The same operations in the same order for a customer (floats) and a batch (arrays)."""
    return (1.0 - p_churn) * (clv + premium - current)


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


def settle(
    proposed: float, upper: float, lower: float, review: bool, missing: bool
) -> tuple[int, float, bool]:
    """(verdict, recommended premium, conflict) from the combined bounds."""
    conflict = lower > upper
    recommended = proposed if conflict else cents(min(max(proposed, lower), upper))
    if review or missing or conflict:
        return REVIEW, recommended, conflict
    return (APPROVE if abs(recommended - proposed) < 0.005 else ADJUST), recommended, conflict


def renewal_reasons(
    policies: Sequence[CompiledPricePolicy],
    outcome: tuple[Sequence[bool], Sequence[float], Sequence[float], Sequence[bool]],
    verdict: int,
    prices: tuple[float, float, float, float],
    conflict: bool,
) -> list[Reason]:
    """``prices`` are (proposed, recommended, combined lower, combined upper)."""
    fired, uppers, lowers, missing = outcome
    proposed, recommended, lower, upper = prices
    reasons: list[Reason] = []
    for i, policy in enumerate(policies):
        if not fired[i]:
            continue
        if missing[i]:
            text = f"cannot evaluate the premium bound of {policy.id}: a value is missing"
            reasons.append(Reason("review", policy.id, text))
        if uppers[i] < INF and uppers[i] == upper and recommended < proposed and not conflict:
            text = with_detail(policy.reason, f"at most {upper:,.2f}")
            reasons.append(Reason("price_cap", policy.id, text))
        if lowers[i] > -INF and lowers[i] == lower and recommended > proposed and not conflict:
            text = with_detail(policy.reason, f"at least {lower:,.2f}")
            reasons.append(Reason("price_floor", policy.id, text))
        if policy.review:
            reasons.append(Reason("review", policy.id, policy.reason))
    if conflict:
        text = f"price policies conflict: floor {lower:,.2f} is above cap {upper:,.2f}"
        reasons.append(Reason("review", None, text))
    if verdict == APPROVE:
        reasons.append(Reason("approve", None, "the proposed premium satisfies every price policy"))
    elif verdict == ADJUST:
        text = f"recommended premium {recommended:,.2f} instead of {proposed:,.2f}"
        reasons.append(Reason("adjust", None, text))
    return reasons
