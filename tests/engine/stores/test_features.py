"""Feature stores: the in-process one and Redis answer alike, from the same book."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.errors import ConfigError, DataContractError, FeatureStoreUnavailable
from engine.stores.features import FeatureStore, InMemoryFeatureStore, feature_frame
from engine.stores.features_redis import RedisFeatureStore


def book() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["00042", "C2", "C3"],
            "age": [36, 51, 29],
            "premium": [547.08, 0.1, np.nan],
            "loss_free": [True, False, True],
            "segment": ["mass", None, "vip ü"],
            "renewal": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"]),
            "truth_p_churn": [0.1, 0.2, 0.3],
        }
    )


EXPECTED = {
    "00042": {
        "age": 36,
        "premium": 547.08,
        "loss_free": True,
        "segment": "mass",
        "renewal": "2026-01-01 00:00:00",
    },
    "C2": {"age": 51, "premium": 0.1, "loss_free": False, "renewal": "2026-02-01 00:00:00"},
    "C3": {"age": 29, "loss_free": True, "segment": "vip ü", "renewal": "2026-03-01 00:00:00"},
}


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest) -> Iterator[FeatureStore]:
    if request.param == "memory":
        yield InMemoryFeatureStore(book())
        return
    url = request.getfixturevalue("redis_url")
    prefix = request.getfixturevalue("redis_prefix")
    redis_store = RedisFeatureStore(url, prefix=prefix)
    assert redis_store.push_frame(book(), chunk_size=2) == 3
    yield redis_store
    redis_store.close()


def test_get_gives_plain_typed_values_without_truth_or_missing(store: FeatureStore) -> None:
    for cid, expected in EXPECTED.items():
        found = store.get(cid)
        assert found == expected
        assert found is not None
        assert {k: type(v) for k, v in found.items()} == {k: type(v) for k, v in expected.items()}
    assert store.get("nobody") is None


def test_get_many_keeps_the_order_asked(store: FeatureStore) -> None:
    assert store.get_many(["C3", "nobody", "00042"]) == [EXPECTED["C3"], None, EXPECTED["00042"]]
    assert store.get_many([]) == []


def test_put_many_replaces_whole_records(store: FeatureStore) -> None:
    assert (
        store.put_many(
            [
                {
                    "customer_id": "C2",
                    "age": np.int64(52),
                    "tier": "gold",
                    "premium": None,
                    "truth_x": 1.0,
                }
            ]
        )
        == 1
    )
    assert store.get("C2") == {"age": 52, "tier": "gold"}
    assert type(store.get("C2")["age"]) is int  # type: ignore[index]


def test_store_answers_ping(store: FeatureStore) -> None:
    store.ping()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_from_file_keeps_ids_as_text(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"book{suffix}"
    frame = book().drop(columns=["renewal"])
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path)
    store = InMemoryFeatureStore.from_file(path)
    assert len(store) == 3
    assert store.get("00042") == {
        "age": 36,
        "premium": 547.08,
        "loss_free": True,
        "segment": "mass",
    }


def test_from_file_refuses_missing_file_and_extension(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        InMemoryFeatureStore.from_file(tmp_path / "none.csv")
    (tmp_path / "book.xlsx").write_text("x")
    with pytest.raises(ConfigError, match="unknown extension"):
        InMemoryFeatureStore.from_file(tmp_path / "book.xlsx")


def test_book_needs_unique_ids() -> None:
    frame = pd.DataFrame({"customer_id": ["a", "b", "a"], "x": [1, 2, 3]})
    with pytest.raises(DataContractError, match=r"not unique \(rows \[0, 2\]\)"):
        feature_frame(frame)
    with pytest.raises(DataContractError, match="no 'customer_id'"):
        feature_frame(pd.DataFrame({"x": [1]}))


@pytest.mark.integration
def test_redis_and_memory_agree_on_a_synthetic_book(redis_url: str, redis_prefix: str) -> None:
    from training.synth import generate_book

    frame = generate_book(2_000, seed=3)
    memory = InMemoryFeatureStore(frame)
    redis_store = RedisFeatureStore(redis_url, prefix=redis_prefix)
    assert redis_store.push_frame(frame, chunk_size=700) == 2_000
    ids = frame["customer_id"].astype(str).tolist()
    assert redis_store.get_many(ids) == memory.get_many(ids)
    assert not any(k.startswith("truth_") for k in redis_store.get(ids[0]) or {})
    redis_store.close()


@pytest.mark.integration
def test_push_replaces_values_that_became_missing(redis_url: str, redis_prefix: str) -> None:
    redis_store = RedisFeatureStore(redis_url, prefix=redis_prefix)
    redis_store.push_frame(pd.DataFrame({"customer_id": ["a"], "x": [1.5], "y": ["old"]}))
    redis_store.push_frame(pd.DataFrame({"customer_id": ["a"], "x": [2.5]}))
    assert redis_store.get("a") == {"x": 2.5}
    redis_store.close()


def test_unreachable_redis_fails_fast_with_our_error() -> None:
    redis_store = RedisFeatureStore("redis://127.0.0.1:1/0", timeout=0.2)
    started = time.perf_counter()
    with pytest.raises(FeatureStoreUnavailable, match="feature store"):
        redis_store.get("C1")
    with pytest.raises(FeatureStoreUnavailable):
        redis_store.get_many(["C1", "C2"])
    with pytest.raises(FeatureStoreUnavailable):
        redis_store.push_frame(book())
    assert time.perf_counter() - started < 2.0
