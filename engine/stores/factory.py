"""Build the stores the settings ask for (at startup: the FastAPI lifespan or a command).

``RETENTION_REDIS_URL`` set: features and counters in Redis, shared by every replica.
Unset: the embedded stores (features from ``RETENTION_FEATURES_FILE``, or empty; counters
in this process, so only one replica may run). The decision log always follows
``RETENTION_DATABASE_URL`` (SQLite by default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.core.config import Settings
from engine.stores.counters import CounterStore, InMemoryCounterStore
from engine.stores.customer_read import Reader, customer_reader
from engine.stores.decision_log import DecisionLog, SqlDecisionLog, writer_for
from engine.stores.features import FeatureStore, InMemoryFeatureStore

if TYPE_CHECKING:
    import redis


@dataclass(frozen=True)
class Stores:
    """The three stores of the service, closed together at shutdown."""

    features: FeatureStore
    counters: CounterStore
    decisions: DecisionLog
    read_customer: Reader = field(init=False, repr=False)
    """``await read_customer(customer_id, now, window_s)``: features and contact history."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "read_customer", customer_reader(self.features, self.counters))

    def close(self) -> None:
        self.decisions.close()
        self.counters.close()
        self.features.close()


def build_feature_store(settings: Settings, client: redis.Redis | None = None) -> FeatureStore:
    if settings.redis_url is not None:
        from engine.stores.features_redis import RedisFeatureStore

        return RedisFeatureStore(
            settings.redis_url,
            prefix=settings.redis_prefix,
            timeout=settings.redis_timeout_seconds,
            client=client,
        )
    if settings.features_file is not None:
        return InMemoryFeatureStore.from_file(settings.features_file)
    return InMemoryFeatureStore()


def build_counter_store(settings: Settings, client: redis.Redis | None = None) -> CounterStore:
    if settings.redis_url is not None:
        from engine.stores.counters_redis import RedisCounterStore

        return RedisCounterStore(
            settings.redis_url,
            prefix=settings.redis_prefix,
            timeout=settings.redis_timeout_seconds,
            client=client,
        )
    return InMemoryCounterStore()


def build_decision_log(settings: Settings) -> DecisionLog:
    return SqlDecisionLog(
        settings.database_url,
        max_batch=settings.decision_log_max_batch,
        max_wait_ms=settings.decision_log_max_wait_ms,
        durability=settings.decision_log_durability,
        writer=writer_for(settings.database_url, settings.decision_log_writer),
    )


def build_stores(settings: Settings) -> Stores:
    """All three; a store that cannot be built closes the ones already built. With Redis,
    features and counters share one client so a decision reads both in one round trip."""
    client = None
    if settings.redis_url is not None:
        from engine.stores.redis_connection import connect_redis

        client = connect_redis(settings.redis_url, timeout=settings.redis_timeout_seconds)
    features = build_feature_store(settings, client)
    try:
        counters = build_counter_store(settings, client)
        try:
            return Stores(features, counters, build_decision_log(settings))
        except BaseException:
            counters.close()
            raise
    except BaseException:
        features.close()
        raise
