"""Benchmark: the vectorised decision of a whole book, end to end, and the full simulation.

    python bench/simulate.py --data book1m.parquet --model /tmp/shared/bundle
        [--rules rules/retention.yaml] [--full]

Times read → score (bundle) → decide_frame → allocate_budgets, the path a monthly batch
run takes; with ``--full`` also ``simulate`` (baselines, truth, renewals). Results are
recorded in bench/results/simulate.md.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from pathlib import Path

from engine.decision import Context, allocate_budgets, decide_frame
from engine.rules import load_rule_set
from engine.scoring.bundle import ModelBundle
from training.simulation import SimulationOptions, simulate
from training.simulation.book import read_book, score_book


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--rules", type=Path, default=Path("rules/retention.yaml"))
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    now = datetime(2026, 11, 23)
    started = time.perf_counter()
    rules = load_rule_set(args.rules)
    bundle = ModelBundle.load(args.model)
    book = read_book(args.data)
    marks = {"read": time.perf_counter()}
    frame = score_book(book, bundle)
    marks["score"] = time.perf_counter()
    batch = decide_frame(rules, frame, Context(now=now, channel="email", event="renewal_due"))
    marks["decide"] = time.perf_counter()
    allocation = allocate_budgets(batch)
    marks["allocate"] = time.perf_counter()
    previous = started
    for step, at in marks.items():
        print(f"{step:10s} {at - previous:7.2f} s")
        previous = at
    total = previous - started
    offers = int((allocation.chosen >= 0).sum())
    rate = len(frame) / total
    print(f"decision end to end: {len(frame):,} customers in {total:.1f} s ({rate:,.0f}/s)")
    print(f"offers after budgets: {offers:,}")
    if args.full:
        start = time.perf_counter()
        timer = StepTimer()
        simulate(rules, frame, bundle, SimulationOptions(now=now), timer)
        timer.finish()
        print(f"simulate (baselines, truth, renewals) after scoring: "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip


class StepTimer:
    """A ``simulate`` step callback printing how long each step took."""

    def __init__(self) -> None:
        self.current: tuple[str, float] | None = None

    def __call__(self, message: str) -> None:
        self.finish()
        self.current = (message, time.perf_counter())

    def finish(self) -> None:
        if self.current is not None:
            message, since = self.current
            print(f"  {time.perf_counter() - since:6.2f} s  {message}", flush=True)
            self.current = None


if __name__ == "__main__":
    main()
