"""One read of a customer's features and contact history: joint on a shared Redis client,
separate otherwise, and each store's failure reported on its own."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
import redis

from engine.errors import FeatureStoreUnavailable
from engine.stores.counters import InMemoryCounterStore, StoredContacts
from engine.stores.counters_redis import RedisCounterStore
from engine.stores.customer_read import CustomerRead, Reader, customer_reader
from engine.stores.errors import CounterStoreUnavailable
from engine.stores.features import InMemoryFeatureStore
from engine.stores.features_redis import RedisFeatureStore
from engine.stores.redis_connection import connect_redis

pytestmark = pytest.mark.integration
WINDOW = 30 * 86_400.0


@pytest.fixture
def shared(
    redis_url: str, redis_prefix: str
) -> Iterator[tuple[RedisFeatureStore, RedisCounterStore]]:
    client = connect_redis(redis_url, timeout=1.0)
    features = RedisFeatureStore(redis_url, prefix=redis_prefix, client=client)
    counters = RedisCounterStore(redis_url, prefix=redis_prefix, client=client)
    yield features, counters
    client.close()


def read_now(reader: Reader, customer: str, now: float, counters: object = None) -> CustomerRead:
    """One read on a loop of its own; the asyncio client's connection is closed on it."""

    async def once() -> CustomerRead:
        try:
            return await reader(customer, now, WINDOW)
        finally:
            if isinstance(counters, RedisCounterStore):
                counters.link.close()

    return asyncio.run(once())


def seed(features: RedisFeatureStore, counters: RedisCounterStore, now: float) -> None:
    features.put_many([{"customer_id": "A", "age": 41, "segment": "vip"}])
    reserved = counters.reserve(
        "A", "premium_freeze", cost=10, budget_name=None, budget_limit=None, cap_key=None,
        cap_limit=None, contact_window_s=WINDOW, max_contacts=None, now=now - 60,
    )  # fmt: skip
    assert reserved.reservation is not None
    counters.record_outcome("A", "premium_freeze", "declined", at=now - 30)


def test_joint_read_equals_the_two_separate_reads(
    shared: tuple[RedisFeatureStore, RedisCounterStore], redis_url: str, redis_prefix: str
) -> None:
    features, counters = shared
    now = time.time()
    seed(features, counters, now)
    joint = customer_reader(features, counters)
    separate_features = RedisFeatureStore(redis_url, prefix=redis_prefix)
    separate = customer_reader(separate_features, counters)  # different clients
    try:
        for customer in ("A", "unknown"):
            one, two = (
                read_now(joint, customer, now, counters),
                read_now(separate, customer, now, counters),
            )
            assert one == two
        read = read_now(joint, "A", now, counters)
        assert read.features == {"age": 41, "segment": "vip"}
        assert isinstance(read.history, StoredContacts)
        assert [c.action_id for c in read.history.contacts] == ["premium_freeze"]
        assert read.history.last_decline_at == pytest.approx(now - 30)
    finally:
        separate_features.close()


def test_joint_read_is_one_round_trip(shared: tuple[RedisFeatureStore, RedisCounterStore]) -> None:
    features, counters = shared
    read = customer_reader(features, counters)

    async def count() -> int:
        await read("A", time.time(), WINDOW)  # connect
        before = features.client.info("stats")["total_commands_processed"]
        await read("A", time.time(), WINDOW)
        counted = int(features.client.info("stats")["total_commands_processed"]) - before
        counters.link.close()
        return counted

    # INFO itself counts once; the read is three commands in one pipeline.
    assert asyncio.run(count()) == 4


def test_a_failing_command_degrades_only_its_store(
    shared: tuple[RedisFeatureStore, RedisCounterStore],
) -> None:
    features, counters = shared
    now = time.time()
    seed(features, counters, now)
    client: redis.Redis = features.client
    client.delete(features.key("A"))
    client.set(features.key("A"), "not a hash")  # HGETALL on it: WRONGTYPE
    read = read_now(customer_reader(features, counters), "A", now, counters)
    assert isinstance(read.features, FeatureStoreUnavailable)
    assert "WRONGTYPE" in read.features.message or "ResponseError" in read.features.message
    assert isinstance(read.history, StoredContacts)


def test_redis_down_degrades_both_with_their_own_errors() -> None:
    client = connect_redis("redis://127.0.0.1:1/0", timeout=0.2)
    features = RedisFeatureStore("redis://127.0.0.1:1/0", client=client)
    counters = RedisCounterStore("redis://127.0.0.1:1/0", client=client)
    read = read_now(customer_reader(features, counters), "A", time.time(), counters)
    assert isinstance(read.features, FeatureStoreUnavailable)
    assert isinstance(read.history, CounterStoreUnavailable)
    assert read.history.message.startswith("counter store: ")
    assert "redis://" not in read.features.message + read.history.message  # no URL: secrets


def test_embedded_stores_are_read_one_by_one() -> None:
    features = InMemoryFeatureStore()
    features.put_many([{"customer_id": "A", "age": 30}])
    read = read_now(customer_reader(features, InMemoryCounterStore()), "A", time.time())
    assert read.features == {"age": 30}
    assert read.history == StoredContacts()
