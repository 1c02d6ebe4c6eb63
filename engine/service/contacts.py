"""Contact history for the core, and atomic reservation of caps and budgets for its answer.

The core checks contact policy and per-customer caps against the history it is handed
(read once per decision from the counter store) and returns ranked candidates. Budgets and
total caps need atomic counters: ``reserve_first`` reserves the candidates in rank order
and keeps the first that succeeds, so a budget is never overspent however many requests
race (the counter store's reservation is one atomic step). The reservation also records
the contact and starts nothing else; a decline reported later starts the cool-down.

History is read over the longest per-customer window of the rule set (contact policy or
any per-customer cap), so the core can count an action's offers over a year; the counter
store's own contact limit is therefore not used (the core applies it from the history),
while the cool-down after a decline is also checked atomically.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from engine.decision import Candidate, ContactSnapshot, OfferRecord, Reason
from engine.rules import RuleSet
from engine.stores.counters import (
    CounterStore,
    Reservation,
    ReservationRequest,
    StoredContacts,
)

DAY = 86_400.0


def history_window_s(rules: RuleSet) -> float:
    windows = [a.per_customer_cap.window for a in rules.actions if a.per_customer_cap]
    if rules.contact_policy is not None:
        windows.append(rules.contact_policy.window)
    return max((w.total_seconds() for w in windows), default=DAY)


def cooldown_s(rules: RuleSet) -> float:
    policy = rules.contact_policy
    return 0.0 if policy is None else policy.cooldown.total_seconds()


def snapshot(history: StoredContacts) -> ContactSnapshot:
    """The counter store's history as the core's ``ContactHistory`` (UTC, without zone)."""
    offers = tuple(OfferRecord(c.action_id, _naive(c.at)) for c in history.contacts)
    declined = None if history.last_decline_at is None else _naive(history.last_decline_at)
    return ContactSnapshot(offers, declined)


def _naive(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC).replace(tzinfo=None)


def period_key(period: str, now: datetime) -> str:
    """``2026-11`` (month), ``2026-Q4`` (quarter), ``2026`` (year), ``2026-11-05`` (day)..."""
    if period == "month":
        return f"{now:%Y-%m}"
    if period == "quarter":
        return f"{now.year}-Q{(now.month - 1) // 3 + 1}"
    if period == "year":
        return f"{now.year}"
    if period == "week":
        year, week, _ = now.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "day":
        return f"{now:%Y-%m-%d}"
    return period  # "total" or an unknown period: one counter for ever


@dataclass(frozen=True, slots=True)
class Reserved:
    """The candidates kept (the reserved one first) and why others were dropped."""

    candidates: tuple[Candidate, ...]
    reservation: Reservation | None
    reasons: tuple[Reason, ...]


async def reserve_first(
    counters: CounterStore,
    rules: RuleSet,
    customer_id: str,
    candidates: Sequence[Candidate],
    now: datetime,
) -> Reserved:
    """Reserve the first candidate whose caps and budget allow it; keep the rest ranked.

    The answer lists the reserved action first, then the lower-ranked alternatives that
    were not reserved (an agent who offers one of those asks for a new decision). Actions
    refused by a cap or budget are dropped, with a reason.
    """
    reasons: list[Reason] = []
    stamp = now.timestamp()
    for position, candidate in enumerate(candidates):
        action = rules.action(candidate.action_id)
        budget = rules.budgets.get(action.budget) if action.budget else None
        cap = action.total_cap
        cost = candidate.cost if math.isfinite(candidate.cost) and candidate.cost > 0 else 0.0
        request = ReservationRequest(
            customer_id,
            candidate.action_id,
            cost=cost,
            budget_name=None if budget is None else _budget_key(budget.name, budget.period, now),
            budget_limit=None if budget is None else budget.amount,
            cap_key=None if cap is None else f"{action.id}:{period_key(cap.period, now)}",
            cap_limit=None if cap is None else cap.max_offers,
            contact_window_s=history_window_s(rules),
            max_contacts=None,
            now=stamp,
            cooldown_s=cooldown_s(rules),
        )
        result = await counters.reserve_async(request)
        if result.ok:
            rest = tuple(candidates[position + 1 :])
            return Reserved((candidate, *rest), result.reservation, tuple(reasons))
        text = _refusal_text(result.refusal)
        reasons.append(Reason(str(result.refusal), candidate.action_id, text))
    return Reserved((), None, tuple(reasons))


def without_counters(candidates: Sequence[Candidate], rules: RuleSet) -> Reserved:
    """Counter store down: only actions without a budget or total cap may be offered."""
    kept = tuple(
        c for c in candidates if c.budget is None and rules.action(c.action_id).total_cap is None
    )
    dropped = len(candidates) - len(kept)
    reasons = (
        (
            Reason(
                "counters_unavailable",
                None,
                f"{dropped} budgeted action(s) withheld: "
                "budgets cannot be checked while the counter store is unreachable",
            ),
        )
        if dropped
        else ()
    )
    return Reserved(kept, None, reasons)


def _budget_key(name: str, period: str, now: datetime) -> str:
    return f"{name}:{period_key(period, now)}"


def _refusal_text(refusal: str | None) -> str:
    return {
        "contact_limit": "the customer's contact limit is reached",
        "cooldown": "the customer declined an offer recently (cool-down)",
        "cap_reached": "the action's total cap for this period is reached",
        "budget_exhausted": "the campaign budget for this period is spent",
    }.get(refusal or "", "refused by the counter store")


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
