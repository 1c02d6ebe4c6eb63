"""Writing a generated book to CSV or Parquet, and summarising it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Final

import pandas as pd

from engine.errors import SynthError

SUFFIXES: Final = (".parquet", ".csv")


def check_output_path(path: Path) -> None:
    """Refuse an output path before any work is done: bad extension or unwritable place."""
    if path.suffix.lower() not in SUFFIXES:
        raise SynthError(
            f"{path}: unknown extension {path.suffix or '(none)'!r}; use .parquet or .csv"
        )
    if path.is_dir():
        raise SynthError(f"{path}: is a directory; give a file name ending in .parquet or .csv")
    parent = path.parent if str(path.parent) else Path()
    if not parent.is_dir():
        raise SynthError(f"{path}: directory {parent} does not exist")
    # A real probe rather than os.access: root passes access() checks even where a write
    # fails (read-only mounts, /proc), and we want to fail before minutes of generation.
    try:
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".retention-probe-"):
            pass
    except OSError as exc:
        raise SynthError(f"{path}: not writable ({exc.strerror or exc})") from exc
    if path.exists() and not os.access(path, os.W_OK):
        raise SynthError(f"{path}: not writable")


def write_book(book: pd.DataFrame, path: Path) -> None:
    """Write ``book`` to ``path``; the same frame always gives the same bytes."""
    check_output_path(path)
    try:
        if path.suffix.lower() == ".parquet":
            book.to_parquet(path, index=False, engine="pyarrow", compression="zstd")
        else:
            book.to_csv(path, index=False, lineterminator="\n")
    except OSError as exc:
        raise SynthError(f"{path}: cannot write: {exc.strerror or exc}") from exc


def book_summary(book: pd.DataFrame) -> dict[str, float | int]:
    """Headline statistics a person wants to see after generating a book."""
    campaign = book["treatment"].notna()
    return {
        "customers": len(book),
        "churn_rate": float(book["churned"].mean()),
        "mean_premium_change_pct": float(book["premium_change_pct"].mean()),
        "campaign_customers": int(campaign.sum()),
        "control_customers": int((book["treatment"] == "control").sum()),
        "mean_margin": float(book["margin"].mean()),
    }
