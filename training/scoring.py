"""Batch scoring: a customer table in, one row of scores per customer out (vectorised)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import DataContractError
from engine.scoring.bundle import ModelBundle

CHUNK_ROWS = 250_000
SUFFIXES = (".parquet", ".csv")


def read_table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() not in SUFFIXES:
        raise DataContractError(f"{path}: unknown extension {path.suffix!r}; use .parquet or .csv")
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, low_memory=False)
    except FileNotFoundError as exc:
        raise DataContractError(f"{path}: no such file") from exc
    except (OSError, ValueError) as exc:
        raise DataContractError(f"{path}: cannot read: {exc}") from exc


def check_columns(frame: pd.DataFrame, bundle: ModelBundle, source: str) -> None:
    """Refuse a table the bundle cannot score: missing columns, text in numeric columns."""
    spec = bundle.features
    needed = [bundle.manifest.id_column, *spec.raw_columns]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataContractError(f"{source}: missing columns needed by the model: {missing}")
    problems = []
    categorical = {c.name for c in spec.categorical}
    for column in spec.raw_columns:
        if column in categorical or pd.api.types.is_bool_dtype(frame[column]):
            continue
        values = frame[column]
        numeric = pd.to_numeric(values, errors="coerce")
        bad = numeric.isna() & values.notna()
        if bad.any():
            rows = (np.flatnonzero(bad.to_numpy())[:5] + 1).tolist()
            problems.append(
                f"column {column!r}: {int(bad.sum())} values that are not numbers (rows {rows})"
            )
    if problems:
        raise DataContractError(f"{source}: cannot score:\n" + "\n".join(problems))


def score_table(
    frame: pd.DataFrame,
    bundle: ModelBundle,
    progress: Callable[[int], None] = lambda _: None,
) -> pd.DataFrame:
    """Scores for every row, computed in chunks so memory stays flat on large tables."""
    parts = []
    for start in range(0, len(frame), CHUNK_ROWS):
        chunk = frame.iloc[start : start + CHUNK_ROWS]
        parts.append(bundle.score_frame(chunk))
        progress(len(chunk))
    return pd.concat(parts, ignore_index=True)


def write_table(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix.lower() not in SUFFIXES:
        raise DataContractError(f"{path}: unknown extension {path.suffix!r}; use .parquet or .csv")
    try:
        if path.suffix.lower() == ".parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
    except OSError as exc:
        raise DataContractError(f"{path}: cannot write: {exc.strerror or exc}") from exc
