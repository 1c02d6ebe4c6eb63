"""Counters of the constraint step: contact policy, frequency caps and campaign budgets.

``reserve`` checks and takes everything a decision needs in one atomic step: a contact in
the customer's window, one use of the action's cap, the action's cost from its budget.
All or nothing, so a budget is never overspent however many requests race for its last
euro. ``release`` gives a reservation back when the decision fails after reserving.

Money is held as integer cents: float sums drift (0.1 + 0.2 != 0.3) and a budget check
must be exact. The API takes and returns ``Decimal`` amounts in currency units; costs are
rounded half-up to the cent on the way in. Times are Unix seconds (``float``).

Caps have no period of their own: a cap key such as ``loyalty_discount_10:2026-11`` makes
a monthly cap. The contact window should be the same on every call for one deployment
(it comes from settings): a reservation trims contacts older than its window.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, Protocol

Outcome = Literal["accepted", "declined", "no_response"]
Refusal = Literal["contact_limit", "cooldown", "cap_reached", "budget_exhausted"]
CENT = Decimal("0.01")


def to_cents(amount: Decimal | int | float) -> int:
    """Currency units to integer cents (half-up); floats go through their shortest text."""
    value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    if not value.is_finite() or value < 0:
        raise ValueError(f"an amount must be a finite non-negative number, got {amount!r}")
    return int(value.quantize(CENT, rounding=ROUND_HALF_UP) * 100)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


@dataclass(frozen=True, slots=True)
class Contact:
    action_id: str
    at: float


@dataclass(frozen=True, slots=True)
class StoredContacts:
    """Offers made to a customer within the window (oldest first), and the last decline, as
    the store keeps them (epoch seconds); the decision core reads them as a
    ``ContactHistory`` (``engine.service.contacts.snapshot``)."""

    contacts: tuple[Contact, ...] = ()
    last_decline_at: float | None = None


@dataclass(frozen=True, slots=True)
class Reservation:
    """What a successful ``reserve`` took; hand it to ``release`` to give it back."""

    reservation_id: str
    customer_id: str
    action_id: str
    cost_cents: int
    budget_name: str | None
    cap_key: str | None


@dataclass(frozen=True, slots=True)
class ReservationRequest:
    """The arguments of ``reserve`` as one value: what ``reserve_async`` takes."""

    customer_id: str
    action_id: str
    cost: Decimal | int | float
    budget_name: str | None
    budget_limit: Decimal | int | float | None
    cap_key: str | None
    cap_limit: int | None
    contact_window_s: float
    max_contacts: int | None
    now: float
    cooldown_s: float = 0.0

    def take(self, store: CounterStore) -> ReservationResult:
        """``store.reserve`` with these arguments."""
        return store.reserve(
            self.customer_id, self.action_id, cost=self.cost, budget_name=self.budget_name,
            budget_limit=self.budget_limit, cap_key=self.cap_key, cap_limit=self.cap_limit,
            contact_window_s=self.contact_window_s, max_contacts=self.max_contacts,
            now=self.now, cooldown_s=self.cooldown_s,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ReservationResult:
    """``ok`` with a reservation, or the first constraint that refused, with the counts seen."""

    ok: bool
    refusal: Refusal | None
    reservation: Reservation | None
    contacts_in_window: int
    cap_used: int
    budget_spent: Decimal


class CounterStore(Protocol):
    """Contact history, caps and budgets; ``reserve`` is atomic across replicas."""

    def contact_history(
        self, customer_id: str, *, now: float, window_s: float
    ) -> StoredContacts: ...

    def reserve(
        self,
        customer_id: str,
        action_id: str,
        *,
        cost: Decimal | int | float,
        budget_name: str | None,
        budget_limit: Decimal | int | float | None,
        cap_key: str | None,
        cap_limit: int | None,
        contact_window_s: float,
        max_contacts: int | None,
        now: float,
        cooldown_s: float = 0.0,
    ) -> ReservationResult: ...

    async def reserve_async(self, request: ReservationRequest) -> ReservationResult:
        """``reserve`` for the event loop: a network store does not block it meanwhile."""
        ...

    def release(self, reservation: Reservation) -> bool:
        """Give a reservation back; False when it was already released (idempotent)."""
        ...

    def record_outcome(self, customer_id: str, action_id: str, outcome: Outcome, at: float) -> None:
        """Remember an outcome; a decline starts the customer's cool-down."""
        ...

    def budget_spent(self, name: str) -> Decimal: ...

    def cap_used(self, key: str) -> int: ...

    def ping(self) -> None: ...

    def close(self) -> None: ...


def new_reservation_id() -> str:
    return uuid.uuid4().hex


@dataclass
class _Customer:
    contacts: list[tuple[float, str, str]] = field(default_factory=list)  # at, id, action
    last_decline_at: float | None = None


RESERVATION_TTL_S = 3_600.0  # a decision that fails does so within seconds of reserving


class InMemoryCounterStore:
    """Counters in this process, made atomic by one lock (embedded default, one replica).

    Released-or-not reservations are forgotten after ``reservation_ttl_s`` (so memory does
    not grow with every decision); a later ``release`` is then a no-op, as in Redis.
    """

    def __init__(self, *, reservation_ttl_s: float = RESERVATION_TTL_S) -> None:
        self._ttl = reservation_ttl_s
        self._lock = threading.Lock()
        self._customers: dict[str, _Customer] = defaultdict(_Customer)
        self._caps: dict[str, int] = defaultdict(int)
        self._budgets: dict[str, int] = defaultdict(int)
        self._live: dict[str, tuple[Reservation, float]] = {}  # insertion = expiry order

    def contact_history(self, customer_id: str, *, now: float, window_s: float) -> StoredContacts:
        with self._lock:
            customer = self._customers.get(customer_id) or _Customer()
            recent = tuple(Contact(a, t) for t, _, a in customer.contacts if t > now - window_s)
            return StoredContacts(recent, customer.last_decline_at)

    def reserve(
        self,
        customer_id: str,
        action_id: str,
        *,
        cost: Decimal | int | float,
        budget_name: str | None,
        budget_limit: Decimal | int | float | None,
        cap_key: str | None,
        cap_limit: int | None,
        contact_window_s: float,
        max_contacts: int | None,
        now: float,
        cooldown_s: float = 0.0,
    ) -> ReservationResult:
        cost_cents = to_cents(cost)
        limit_cents = None if budget_limit is None else to_cents(budget_limit)
        with self._lock:
            customer = self._customers[customer_id]
            customer.contacts = [c for c in customer.contacts if c[0] > now - contact_window_s]
            contacts = len(customer.contacts)
            used = self._caps[cap_key] if cap_key is not None else 0
            spent = self._budgets[budget_name] if budget_name is not None else 0
            refusal: Refusal | None = None
            if max_contacts is not None and contacts >= max_contacts:
                refusal = "contact_limit"
            elif (
                cooldown_s > 0
                and customer.last_decline_at is not None
                and now - customer.last_decline_at < cooldown_s
            ):
                refusal = "cooldown"
            elif cap_key is not None and cap_limit is not None and used + 1 > cap_limit:
                refusal = "cap_reached"
            elif (
                budget_name is not None
                and limit_cents is not None
                and spent + cost_cents > limit_cents
            ):
                refusal = "budget_exhausted"
            if refusal is not None:
                return ReservationResult(False, refusal, None, contacts, used, from_cents(spent))
            reservation = Reservation(
                new_reservation_id(), customer_id, action_id, cost_cents, budget_name, cap_key
            )
            customer.contacts.append((now, reservation.reservation_id, action_id))
            if cap_key is not None:
                self._caps[cap_key] = used = used + 1
            if budget_name is not None:
                self._budgets[budget_name] = spent = spent + cost_cents
            self._forget_expired()
            self._live[reservation.reservation_id] = (reservation, time.monotonic() + self._ttl)
            return ReservationResult(True, None, reservation, contacts + 1, used, from_cents(spent))

    async def reserve_async(self, request: ReservationRequest) -> ReservationResult:
        return request.take(self)  # memory only: nothing to wait for

    def _forget_expired(self) -> None:
        clock = time.monotonic()
        while self._live:
            oldest = next(iter(self._live))
            if self._live[oldest][1] > clock:
                return
            del self._live[oldest]

    def release(self, reservation: Reservation) -> bool:
        with self._lock:
            self._forget_expired()
            if self._live.pop(reservation.reservation_id, None) is None:
                return False
            customer = self._customers[reservation.customer_id]
            customer.contacts = [c for c in customer.contacts if c[1] != reservation.reservation_id]
            if reservation.cap_key is not None:
                self._caps[reservation.cap_key] -= 1
            if reservation.budget_name is not None:
                self._budgets[reservation.budget_name] -= reservation.cost_cents
            return True

    def record_outcome(self, customer_id: str, action_id: str, outcome: Outcome, at: float) -> None:
        if outcome != "declined":
            return
        with self._lock:
            customer = self._customers[customer_id]
            if customer.last_decline_at is None or at > customer.last_decline_at:
                customer.last_decline_at = at

    def budget_spent(self, name: str) -> Decimal:
        with self._lock:
            return from_cents(self._budgets.get(name, 0))

    def cap_used(self, key: str) -> int:
        with self._lock:
            return self._caps.get(key, 0)

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None
