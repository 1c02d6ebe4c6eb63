"""What a decision reads about one customer before deciding: stored features and history.

Both come from Redis in a deployment with Redis, usually the same server: then they are read
in one pipelined round trip instead of two, on the asyncio client (``redis_async``), so the
event loop serves other requests while Redis answers (bench/results/service.md). Either
store may fail on its own; the reader reports each failure separately so the pipeline
degrades exactly as it would with two reads. The embedded stores answer from memory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import redis

from engine.errors import FeatureStoreUnavailable
from engine.stores.counters import CounterStore, StoredContacts
from engine.stores.counters_redis import RedisCounterStore
from engine.stores.errors import CounterStoreUnavailable
from engine.stores.features import Features, FeatureStore
from engine.stores.features_redis import RedisFeatureStore
from engine.stores.redis_connection import redis_error_text

_E = TypeVar("_E", FeatureStoreUnavailable, CounterStoreUnavailable)


@dataclass(frozen=True, slots=True)
class CustomerRead:
    """Each part is its value, or the store's error when that store could not answer."""

    features: Features | FeatureStoreUnavailable | None
    history: StoredContacts | CounterStoreUnavailable


Reader = Callable[[str, float, float], Awaitable[CustomerRead]]


def customer_reader(features: FeatureStore, counters: CounterStore) -> Reader:
    """``await read(customer_id, now, window_s)``: one round trip when both stores are in
    the same Redis, otherwise one read per store."""
    if (
        isinstance(features, RedisFeatureStore)
        and isinstance(counters, RedisCounterStore)
        and features.client is counters.client
    ):
        return _joint(features, counters)
    return _separate(features, counters)


def _separate(features: FeatureStore, counters: CounterStore) -> Reader:
    async def read(customer_id: str, now: float, window_s: float) -> CustomerRead:
        stored: Features | FeatureStoreUnavailable | None
        try:
            stored = features.get(customer_id)
        except FeatureStoreUnavailable as error:
            stored = error
        history: StoredContacts | CounterStoreUnavailable
        try:
            history = counters.contact_history(customer_id, now=now, window_s=window_s)
        except CounterStoreUnavailable as error:
            history = error
        return CustomerRead(stored, history)

    return read


def _joint(features: RedisFeatureStore, counters: RedisCounterStore) -> Reader:
    link = counters.link  # the same server: the stores share their clients

    async def read(customer_id: str, now: float, window_s: float) -> CustomerRead:
        offers, decline = counters.history_commands(customer_id, now=now, window_s=window_s)
        try:
            # A command's own error comes back as its reply; a lost connection raises.
            raw, members, declined = await link.execute(
                ("HGETALL", features.key(customer_id)), offers, decline
            )
        except redis.RedisError as error:  # both stores are unreachable alike
            return CustomerRead(
                _failed(FeatureStoreUnavailable, "feature store", error),
                _failed(CounterStoreUnavailable, "counter store", error),
            )
        stored: Features | FeatureStoreUnavailable | None
        if isinstance(raw, redis.RedisError):
            stored = _failed(FeatureStoreUnavailable, "feature store", raw)
        else:
            stored = features.decode(dict(zip(raw[::2], raw[1::2], strict=True)), customer_id)
        history: StoredContacts | CounterStoreUnavailable
        failed = next((r for r in (members, declined) if isinstance(r, redis.RedisError)), None)
        if failed is not None:
            history = _failed(CounterStoreUnavailable, "counter store", failed)
        else:
            history = counters.decode_history(
                zip(members[::2], members[1::2], strict=True), declined
            )
        return CustomerRead(stored, history)

    return read


def _failed(kind: type[_E], what: str, error: redis.RedisError) -> _E:
    # The same text ``redis_errors`` gives a store's own read (never the URL).
    return kind(f"{what}: {redis_error_text(error)}")
