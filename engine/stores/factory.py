"""Build the stores the settings ask for (at startup: the FastAPI lifespan or a command).

``RETENTION_REDIS_URL`` set: features and counters in Redis, shared by every replica.
Unset: the embedded stores (features from ``RETENTION_FEATURES_FILE``, or empty; counters
in this process, so only one replica may run). The decision log always follows
``RETENTION_DATABASE_URL`` (SQLite by default).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.core.config import Settings
from engine.stores.counters import CounterStore, InMemoryCounterStore
from engine.stores.decision_log import DecisionLog, SqlDecisionLog
from engine.stores.features import FeatureStore, InMemoryFeatureStore


@dataclass(frozen=True)
class Stores:
    """The three stores of the service, closed together at shutdown."""

    features: FeatureStore
    counters: CounterStore
    decisions: DecisionLog

    def close(self) -> None:
        self.decisions.close()
        self.counters.close()
        self.features.close()


def build_feature_store(settings: Settings) -> FeatureStore:
    if settings.redis_url is not None:
        from engine.stores.features_redis import RedisFeatureStore

        return RedisFeatureStore(
            settings.redis_url,
            prefix=settings.redis_prefix,
            timeout=settings.redis_timeout_seconds,
        )
    if settings.features_file is not None:
        return InMemoryFeatureStore.from_file(settings.features_file)
    return InMemoryFeatureStore()


def build_counter_store(settings: Settings) -> CounterStore:
    if settings.redis_url is not None:
        from engine.stores.counters_redis import RedisCounterStore

        return RedisCounterStore(
            settings.redis_url,
            prefix=settings.redis_prefix,
            timeout=settings.redis_timeout_seconds,
        )
    return InMemoryCounterStore()


def build_decision_log(settings: Settings) -> DecisionLog:
    return SqlDecisionLog(
        settings.database_url,
        max_batch=settings.decision_log_max_batch,
        max_wait_ms=settings.decision_log_max_wait_ms,
        durability=settings.decision_log_durability,
        writer=settings.decision_log_writer,
    )


def build_stores(settings: Settings) -> Stores:
    """All three; a store that cannot be built closes the ones already built."""
    features = build_feature_store(settings)
    try:
        counters = build_counter_store(settings)
        try:
            return Stores(features, counters, build_decision_log(settings))
        except BaseException:
            counters.close()
            raise
    except BaseException:
        features.close()
        raise
