"""Benchmark: time to generate and write the synthetic book (target: 1M customers ≤ 30 s).

Run: python bench/synth.py [--customers 1000000] [--repeat 3]
Appends nothing by itself; copy the printed table into bench/results/synth.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from training.synth import generate_book, write_book


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    generate_s, write_s = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            started = time.perf_counter()
            book = generate_book(args.customers, seed=i)
            generated = time.perf_counter()
            write_book(book, Path(tmp) / "book.parquet")
            generate_s.append(generated - started)
            write_s.append(time.perf_counter() - generated)
    total = [g + w for g, w in zip(generate_s, write_s, strict=True)]
    print(f"customers: {args.customers:,}, runs: {args.repeat}")
    print("| step | median s | max s | rows/s (median) |")
    print("|---|---|---|---|")
    for name, values in (("generate", generate_s), ("write parquet", write_s), ("total", total)):
        median = statistics.median(values)
        print(f"| {name} | {median:.2f} | {max(values):.2f} | {args.customers / median:,.0f} |")


if __name__ == "__main__":
    main()
