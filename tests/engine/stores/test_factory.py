"""The settings choose the stores: embedded by default, Redis when REDIS_URL is set."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from engine.core.config import Settings
from engine.stores.counters import InMemoryCounterStore
from engine.stores.counters_redis import RedisCounterStore
from engine.stores.factory import build_stores
from engine.stores.features import InMemoryFeatureStore
from engine.stores.features_redis import RedisFeatureStore


def test_embedded_by_default(tmp_path: Path) -> None:
    book = tmp_path / "book.csv"
    pd.DataFrame({"customer_id": ["A"], "age": [40]}).to_csv(book, index=False)
    stores = build_stores(
        Settings(features_file=book, database_url=f"sqlite:///{tmp_path / 'log.db'}")
    )
    try:
        assert isinstance(stores.features, InMemoryFeatureStore)
        assert stores.features.get("A") == {"age": 40}
        assert isinstance(stores.counters, InMemoryCounterStore)
        stores.decisions.ping()
    finally:
        stores.close()


@pytest.mark.integration
def test_redis_when_configured(tmp_path: Path, redis_url: str, redis_prefix: str) -> None:
    stores = build_stores(
        Settings(
            redis_url=redis_url,
            redis_prefix=redis_prefix,
            database_url=f"sqlite:///{tmp_path / 'log.db'}",
        )
    )
    try:
        assert isinstance(stores.features, RedisFeatureStore)
        assert isinstance(stores.counters, RedisCounterStore)
        stores.features.ping()
        stores.counters.ping()
    finally:
        stores.close()
