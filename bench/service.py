"""Service benchmark: in-process latency of each step of a decision (median, p99).

    python bench/service.py inprocess --bundle /tmp/shared/bundle --book book.parquet

Bounded loops only. (The HTTP benchmark under wrk is not written yet: see results.)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"median {p50 * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms (n={len(ordered)})"


def inprocess(bundle: str, book: Path, rows: int) -> None:
    from engine.core.config import Settings
    from engine.decision import Context, decide
    from engine.service.inputs import DecisionInput
    from engine.service.runtime import Runtime

    frame = pd.read_parquet(book).head(rows)
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "book.parquet"
        frame.to_parquet(small)
        settings = Settings(
            features_file=small, model_uri=bundle, keys_file=Path(tmp) / "keys.json",
            database_url=f"sqlite:///{tmp}/d.db", consistency_window_seconds=0,
        )  # fmt: skip
        runtime = Runtime.build(settings)
        service = runtime.service
        ids = frame["customer_id"].astype(str).tolist()
        rules, live = runtime.rules.current, runtime.models.current
        record = runtime.stores.features.get(ids[0]) or {}
        scores, _ = service.scorer.score(live, record, "warm")
        context = Context(now=datetime.now(UTC), channel="agent", intent="cancel_request",
                          event="renewal_due")  # fmt: skip
        core = []
        for cid in ids[:5000]:
            started = time.perf_counter()
            decide(rules, cid, record, scores, context)
            core.append(time.perf_counter() - started)
        print(f"core decide (rules only, scores given): {percentiles(core)}")
        scoring = []
        for i, cid in enumerate(ids[:5000]):
            rec = runtime.stores.features.get(cid) or {}
            started = time.perf_counter()
            service.scorer.score(live, rec, f"cold-{i}")
            scoring.append(time.perf_counter() - started)
        print(f"scoring incl. reason codes (cold cache): {percentiles(scoring)}")
        warm = []
        for i, cid in enumerate(ids[:5000]):
            rec = runtime.stores.features.get(cid) or {}
            started = time.perf_counter()
            service.scorer.score(live, rec, f"cold-{i}")
            warm.append(time.perf_counter() - started)
        print(f"scoring, reason codes cached: {percentiles(warm)}")

        async def pipeline(keys: list[str]) -> list[float]:
            out = []
            for cid in keys:
                started = time.perf_counter()
                await service.decide(DecisionInput(cid, "call_center", "cancel_request",
                                                   "renewal_due"))  # fmt: skip
                out.append(time.perf_counter() - started)
            return out

        full = asyncio.run(pipeline(ids[5000:8000]))
        print(
            f"full pipeline (features, scores, reasons, decide, reserve, log): {percentiles(full)}"
        )
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["inprocess"])
    parser.add_argument("--bundle", default="/tmp/shared/bundle")
    parser.add_argument("--book", type=Path, default=Path("/tmp/shared/book200k.parquet"))
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    inprocess(args.bundle, args.book, args.rows)


if __name__ == "__main__":
    main()
