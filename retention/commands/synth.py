"""`retention synth`: generate the synthetic insurance book."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from retention.console import console
from retention.errors import exit_on_error


def synth(
    customers: Annotated[int, typer.Option("--customers", "-n", help="Number of customers.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file (.parquet or .csv).")],
    seed: Annotated[int, typer.Option("--seed", "-s", help="Random seed.")] = 7,
) -> None:
    """Generate a synthetic insurance book at renewal, with its ground truth."""
    with exit_on_error():
        from engine.errors import SynthError
        from training.synth import book_summary, check_output_path, generate_book, write_book

        if customers <= 0:
            raise SynthError(f"--customers must be a positive number, got {customers}")
        check_output_path(out)
        started = time.perf_counter()
        with console.status(f"generating {customers:,} customers (seed {seed})…"):
            book = generate_book(customers, seed)
        generated = time.perf_counter() - started
        with console.status(f"writing {out}…"):
            write_book(book, out)
        stats = book_summary(book)
        console.print(
            f"[green]wrote[/green] {out} ({out.stat().st_size / 1e6:.1f} MB): "
            f"{stats['customers']:,} customers, churn rate {stats['churn_rate']:.1%}, "
            f"mean premium change {stats['mean_premium_change_pct']:+.1f} %, "
            f"{stats['campaign_customers']:,} in the past campaign "
            f"({stats['control_customers']:,} control); "
            f"generated in {generated:.1f} s, total {time.perf_counter() - started:.1f} s"
        )
