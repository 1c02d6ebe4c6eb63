"""Redis counter store: each check-and-take is one Lua script, so it is atomic.

Redis runs a script to completion before any other command, so reading a budget and
adding to it cannot interleave with another replica doing the same: that, not locks or
WATCH retries, is what keeps budgets from being overspent. Scripts are sent once and
called by SHA (redis-py's ``Script`` reloads them on NOSCRIPT, e.g. after a restart).

Keys (``{p}`` is the prefix): ``{p}:contacts:{customer}`` sorted set of
``reservation|action`` scored by time (expires after the window); ``{p}:decline:{customer}``
last decline time; ``{p}:cap:{key}`` and ``{p}:budget:{name}`` integer counters (cents);
``{p}:res:{id}`` marks a live reservation so ``release`` gives it back once only.

A timeout while a script runs is ambiguous (it may have reserved): the caller sees
``CounterStoreUnavailable`` and the reservation, if made, stays spent. Budgets then err on
the side of underspending, never of overspending.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from engine.stores.counters import (
    Contact,
    Outcome,
    Refusal,
    Reservation,
    ReservationRequest,
    ReservationResult,
    StoredContacts,
    from_cents,
    new_reservation_id,
    to_cents,
)
from engine.stores.errors import CounterStoreUnavailable
from engine.stores.redis_async import AsyncRedis, Command, Script
from engine.stores.redis_connection import connect_redis, redis_errors

if TYPE_CHECKING:
    import redis

DECLINE_TTL_S = 400 * 86_400  # longer than any sensible cool-down
RESERVATION_TTL_S = 3_600

RESERVE = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local contacts = redis.call('ZCARD', KEYS[1])
local has_cap, has_budget = ARGV[5] == '1', ARGV[7] == '1'
local used, spent = 0, 0
if has_cap then used = tonumber(redis.call('GET', KEYS[3]) or '0') end
if has_budget then spent = tonumber(redis.call('GET', KEYS[4]) or '0') end
local max_contacts, cooldown = tonumber(ARGV[3]), tonumber(ARGV[4])
if max_contacts >= 0 and contacts >= max_contacts then
  return {0, 'contact_limit', contacts, used, spent}
end
if cooldown > 0 then
  local declined = redis.call('GET', KEYS[2])
  if declined and now - tonumber(declined) < cooldown then
    return {0, 'cooldown', contacts, used, spent}
  end
end
local cap_limit, limit, cost = tonumber(ARGV[6]), tonumber(ARGV[8]), tonumber(ARGV[9])
if has_cap and cap_limit >= 0 and used + 1 > cap_limit then
  return {0, 'cap_reached', contacts, used, spent}
end
if has_budget and limit >= 0 and spent + cost > limit then
  return {0, 'budget_exhausted', contacts, used, spent}
end
redis.call('ZADD', KEYS[1], now, ARGV[10])
redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
if has_cap then used = redis.call('INCR', KEYS[3]) end
if has_budget then spent = redis.call('INCRBY', KEYS[4], cost) end
redis.call('SET', KEYS[5], '1', 'EX', ARGV[11])
return {1, 'ok', contacts + 1, used, spent}
"""

RELEASE = """
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] == '1' then redis.call('DECR', KEYS[3]) end
if ARGV[3] == '1' then redis.call('DECRBY', KEYS[4], ARGV[4]) end
return 1
"""

RESERVE_SCRIPT = Script(RESERVE)

DECLINE = """
local current = redis.call('GET', KEYS[1])
if (not current) or tonumber(current) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
return 1
"""


class RedisCounterStore:
    """Counters shared by every replica of the service."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "retention",
        timeout: float = 0.25,
        client: redis.Redis | None = None,
        link: AsyncRedis | None = None,
    ) -> None:
        self.prefix = prefix
        self._client = client or connect_redis(url, timeout=timeout)
        # The request path's reservations and reads go through the asyncio client (one
        # connection per event loop, opened on first use); the rest through redis-py.
        self.link = link or AsyncRedis(url, timeout=timeout)
        self._reserve = self._client.register_script(RESERVE)
        self._release = self._client.register_script(RELEASE)
        self._decline = self._client.register_script(DECLINE)

    def _keys(self, customer_id: str, cap_key: str | None, budget: str | None) -> list[str]:
        p = self.prefix
        return [
            f"{p}:contacts:{customer_id}",
            f"{p}:decline:{customer_id}",
            f"{p}:cap:{cap_key or ''}",
            f"{p}:budget:{budget or ''}",
        ]

    @property
    def client(self) -> redis.Redis:
        return self._client

    def contact_history(self, customer_id: str, *, now: float, window_s: float) -> StoredContacts:
        with redis_errors(CounterStoreUnavailable, "counter store"):
            offers, decline = self.history_commands(customer_id, now=now, window_s=window_s)
            pipe = self._client.pipeline(transaction=False)
            pipe.execute_command(*offers, withscores=True)  # type: ignore[no-untyped-call]
            pipe.execute_command(*decline)  # type: ignore[no-untyped-call]
            members, declined = pipe.execute()
        return self.decode_history(members, declined)

    def history_commands(
        self, customer_id: str, *, now: float, window_s: float
    ) -> tuple[Command, Command]:
        """The two reads of ``contact_history``: offers in the window with their times and
        the last decline."""
        contacts_key, decline_key, _, _ = self._keys(customer_id, None, None)
        return (
            ("ZRANGEBYSCORE", contacts_key, f"({now - window_s!r}", "+inf", "WITHSCORES"),
            ("GET", decline_key),
        )

    @staticmethod
    def decode_history(
        members: Iterable[tuple[bytes, bytes | float]], declined: bytes | None
    ) -> StoredContacts:
        """The replies as stored contacts (``members``: offer and time, in pairs)."""
        contacts = tuple(
            Contact(member.decode().split("|", 1)[1], float(at)) for member, at in members
        )
        return StoredContacts(contacts, None if declined is None else float(declined))

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
        request = ReservationRequest(
            customer_id, action_id, cost, budget_name, budget_limit, cap_key, cap_limit,
            contact_window_s, max_contacts, now, cooldown_s,
        )  # fmt: skip
        keys, args, reservation = self._reservation(request)
        with redis_errors(CounterStoreUnavailable, "counter store"):
            reply = self._reserve(keys=keys, args=args)
        return _reserved(reply, reservation)

    async def reserve_async(self, request: ReservationRequest) -> ReservationResult:
        keys, args, reservation = self._reservation(request)
        with redis_errors(CounterStoreUnavailable, "counter store"):
            reply = await self.link.eval_script(RESERVE_SCRIPT, keys, args)
        return _reserved(reply, reservation)

    def _reservation(
        self, request: ReservationRequest
    ) -> tuple[list[str], list[str | int], Reservation]:
        """The script's keys and arguments, and the reservation it makes if it succeeds."""
        cap_key, budget_name = request.cap_key, request.budget_name
        reservation = Reservation(
            new_reservation_id(), request.customer_id, request.action_id,
            to_cents(request.cost), budget_name, cap_key,
        )  # fmt: skip
        limit = request.budget_limit
        args: list[str | int] = [
            repr(float(request.now)),
            repr(float(request.contact_window_s)),
            -1 if request.max_contacts is None else request.max_contacts,
            repr(float(request.cooldown_s)),
            int(cap_key is not None),
            -1 if request.cap_limit is None else request.cap_limit,
            int(budget_name is not None),
            -1 if limit is None else to_cents(limit),
            reservation.cost_cents,
            f"{reservation.reservation_id}|{request.action_id}",
            RESERVATION_TTL_S,
        ]
        keys = self._keys(request.customer_id, cap_key, budget_name)
        return [*keys, f"{self.prefix}:res:{reservation.reservation_id}"], args, reservation

    def release(self, reservation: Reservation) -> bool:
        contacts_key, _, cap, budget = self._keys(
            reservation.customer_id, reservation.cap_key, reservation.budget_name
        )
        with redis_errors(CounterStoreUnavailable, "counter store"):
            released = self._release(
                keys=[f"{self.prefix}:res:{reservation.reservation_id}", contacts_key, cap, budget],
                args=[
                    f"{reservation.reservation_id}|{reservation.action_id}",
                    int(reservation.cap_key is not None),
                    int(reservation.budget_name is not None),
                    reservation.cost_cents,
                ],
            )
        return bool(released)

    def record_outcome(self, customer_id: str, action_id: str, outcome: Outcome, at: float) -> None:
        if outcome != "declined":
            return
        with redis_errors(CounterStoreUnavailable, "counter store"):
            self._decline(
                keys=[f"{self.prefix}:decline:{customer_id}"], args=[repr(float(at)), DECLINE_TTL_S]
            )

    def budget_spent(self, name: str) -> Decimal:
        with redis_errors(CounterStoreUnavailable, "counter store"):
            value = self._client.get(f"{self.prefix}:budget:{name}")
        return from_cents(int(value or 0))

    def cap_used(self, key: str) -> int:
        with redis_errors(CounterStoreUnavailable, "counter store"):
            value = self._client.get(f"{self.prefix}:cap:{key}")
        return int(value or 0)

    def ping(self) -> None:
        with redis_errors(CounterStoreUnavailable, "counter store"):
            self._client.ping()

    def close(self) -> None:
        self.link.close()
        self._client.close()


def _reserved(reply: list[Any], reservation: Reservation) -> ReservationResult:
    ok, why, contacts, used, spent = reply
    if not ok:
        refusal: Refusal = why.decode()
        return ReservationResult(False, refusal, None, contacts, used, from_cents(spent))
    return ReservationResult(True, None, reservation, contacts, used, from_cents(spent))
