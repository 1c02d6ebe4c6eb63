"""Benchmark of the state layer: feature push, Redis reads, reservations, decision log.

Run: python bench/stores.py [--customers 200000] [--redis redis://127.0.0.1:6379/0]
                            [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
Prints markdown tables; copy them into bench/results/stores.md. Uses a random Redis key
prefix and a scratch PostgreSQL database, both removed at the end.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import redis

from engine.stores.counters import CounterStore, InMemoryCounterStore
from engine.stores.counters_redis import RedisCounterStore
from engine.stores.decision_log import SqlDecisionLog
from engine.stores.decision_log_schema import DecisionRecord
from engine.stores.features import feature_frame
from engine.stores.features_codec import encode_value
from engine.stores.features_redis import RedisFeatureStore
from training.synth import generate_book


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.99 * (len(ordered) - 1))]


def timed(call: Callable[[], object], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1e6)
    return samples


def bench_push(url: str, prefix: str, customers: int) -> str:
    book = generate_book(customers, seed=1)
    store = RedisFeatureStore(url, prefix=prefix)
    rows = ["| method | customers | seconds | customers/s |", "|---|---|---|---|"]
    for _ in range(3):
        started = time.perf_counter()
        store.push_frame(book)
        elapsed = time.perf_counter() - started
        rows.append(
            f"| push_frame (Arrow-built protocol) | {customers:,} | {elapsed:.2f} | "
            f"{customers / elapsed:,.0f} |"
        )
    # For comparison: redis-py pipeline, HSET with mapping, chunks of 2,000, no transaction.
    sample = feature_frame(book.head(50_000))
    client = redis.Redis.from_url(url)
    started = time.perf_counter()
    pipe = client.pipeline(transaction=False)
    for i, record in enumerate(sample.to_dict("records")):
        cid = record.pop("customer_id")
        mapping = {k: encode_value(v) for k, v in record.items() if v is not None and v == v}
        pipe.hset(f"{prefix}:naive:{cid}", mapping=mapping)
        if i % 2_000 == 1_999:
            pipe.execute()
    pipe.execute()
    elapsed = time.perf_counter() - started
    rows.append(
        f"| redis-py pipeline, HSET mapping | {len(sample):,} | {elapsed:.2f} | "
        f"{len(sample) / elapsed:,.0f} |"
    )
    client.close()
    ids = book["customer_id"].astype(str).tolist()
    gets = timed(lambda: store.get(ids[len(ids) // 2]), 5_000)
    many = timed(lambda: store.get_many(ids[:50]), 500)
    store.close()
    (g50, g99), (m50, m99) = percentiles(gets), percentiles(many)
    return "\n".join(
        [
            *rows,
            "",
            "| Redis read | median µs | p99 µs |",
            "|---|---|---|",
            f"| get (HGETALL, ~28 fields, decoded) | {g50:.0f} | {g99:.0f} |",
            f"| get_many, 50 customers (pipelined) | {m50:.0f} | {m99:.0f} |",
        ]
    )


def bench_reserve(url: str, prefix: str) -> str:
    rows = ["| reserve | median µs | p99 µs |", "|---|---|---|"]
    stores: list[tuple[str, CounterStore]] = [
        ("in-process (lock)", InMemoryCounterStore()),
        ("Redis (one Lua script)", RedisCounterStore(url, prefix=prefix)),
    ]
    for name, store in stores:
        counter = iter(range(10**9))
        samples = timed(
            lambda s=store, ids=counter: s.reserve(  # type: ignore[misc]
                f"c{next(ids)}",
                "loyalty_discount_10",
                cost=12.5,
                budget_name="b",
                budget_limit=10**9,
                cap_key="cap",
                cap_limit=10**9,
                contact_window_s=86_400,
                max_contacts=3,
                now=time.time(),
                cooldown_s=3_600,
            ),
            5_000,
        )
        median, p99 = percentiles(samples)
        rows.append(f"| {name} | {median:.0f} | {p99:.0f} |")
        store.close()
    return "\n".join(rows)


def record() -> DecisionRecord:
    return DecisionRecord(
        uuid.uuid4().hex,
        datetime.now(UTC),
        "C00000001",
        "call_center",
        "decision",
        "d" * 64,
        {"customer_id": "C00000001", "context": {"intent": "cancel_request"}},
        {
            "actions": [
                {"action_id": "loyalty_discount_10", "expected_value": 41.5, "script": "x" * 200}
            ],
            "reasons": ["price increase"] * 3,
        },
        "retention-bundle/7",
        "a1b2c3d4",
        False,
        False,
    )


def bench_log(name: str, url: str) -> list[str]:
    rows = []
    log = SqlDecisionLog(url, max_batch=256, max_wait_ms=1)
    for threads in (1, 8, 64):
        per_thread = 400 if threads == 1 else max(4_000 // threads, 50)
        latencies: list[float] = []
        lock = threading.Lock()

        def work(
            n: int = per_thread, lock: threading.Lock = lock, out: list[float] = latencies
        ) -> None:
            mine = timed(lambda: log.log(record()), n)
            with lock:
                out.extend(mine)

        workers = [threading.Thread(target=work) for _ in range(threads)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        median, p99 = percentiles(latencies)
        rows.append(
            f"| {name} | {threads} | {len(latencies) / elapsed:,.0f} | "
            f"{median / 1000:.1f} | {p99 / 1000:.1f} |"
        )
    log.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    try:
        print(bench_push(args.redis, prefix, args.customers), end="\n\n")
        print(bench_reserve(args.redis, prefix), end="\n\n")
    finally:
        client = redis.Redis.from_url(args.redis)
        for keys in iter(lambda: list(client.scan_iter(f"{prefix}:*", count=10_000))[:10_000], []):
            client.unlink(*keys)
        client.close()
    table = [
        "| database | threads | rows/s | call median ms | call p99 ms |",
        "|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        table += bench_log("SQLite (WAL, synchronous=FULL)", f"sqlite:///{Path(tmp) / 'd.db'}")
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.postgres, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            base = args.postgres.rsplit("/", 1)[0]
            table += bench_log("PostgreSQL 15", f"{base}/{name}")
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    print("\n".join(table))


if __name__ == "__main__":
    main()
