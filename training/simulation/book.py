"""The book a simulation runs on: read, checked against the rule set and bundle, scored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.errors import DataContractError, ModelNotFound
from engine.rules import RuleSet
from engine.rules.namespace import BUILT_IN
from engine.scoring.bundle import ModelBundle
from engine.scoring.value import ValueModel
from training.scoring import check_columns, read_table, score_table

TRUTH_PREFIX: Final = "truth_p_churn__"
TRUTH_NONE: Final = TRUTH_PREFIX + "none"
PRICE_COLUMNS: Final = (
    "annual_premium",
    "proposed_premium",
    "expected_claims_cost",
    "cost_to_serve",
)
"""Columns the money needs besides the model's features (renewal and true value)."""

MAX_LEVELS: Final = 1_000
Progress = Callable[[str], None]


def read_book(path: Path) -> pd.DataFrame:
    """The table at ``path``; a missing or unreadable file is a ``DataContractError``."""
    return read_table(path)


def check_book(book: pd.DataFrame, rules: RuleSet, bundle: ModelBundle, source: str) -> None:
    """Refuse a book the run cannot use, naming every missing column at once."""
    check_columns(book, bundle, source)
    fields = [name for name in rules.schema if name not in BUILT_IN]
    needed = [*PRICE_COLUMNS, *fields]
    missing = [name for name in dict.fromkeys(needed) if name not in book.columns]
    if missing:
        raise DataContractError(f"{source}: missing columns needed by the simulation: {missing}")


def value_model(bundle: ModelBundle) -> ValueModel:
    if bundle.manifest.value is None:
        reason = bundle.manifest.skipped.get("value", "not trained")
        raise ModelNotFound(f"{bundle.path}: the bundle has no value model ({reason})")
    return bundle.manifest.value


def has_truth(book: pd.DataFrame) -> bool:
    return TRUTH_NONE in book.columns


def score_book(
    book: pd.DataFrame, bundle: ModelBundle, advance: Callable[[int], None] = lambda _: None
) -> pd.DataFrame:
    """The decision frame: the book's columns plus the bundle's scores, row for row."""
    value_model(bundle)  # clv is what every rule set's value formula reads: refuse early
    scores = score_table(book, bundle, advance)
    frame = book.reset_index(drop=True).copy()
    id_column = bundle.manifest.id_column
    for name in scores.columns:
        if name != id_column:
            frame[name] = scores[name].to_numpy()
    return as_categories(frame, keep=id_column)


def as_categories(frame: pd.DataFrame, keep: str, most: int = MAX_LEVELS) -> pd.DataFrame:
    """Text columns with at most ``most`` distinct values and no missing ones (segment,
    channel, …) as categoricals, in place: the decision code reads categoricals as they are
    and would otherwise convert the text of a million rows on every pass."""
    for name in frame.columns:
        column = frame[name]
        if name == keep or not pd.api.types.is_string_dtype(column.dtype):
            continue
        if isinstance(column.dtype, pd.CategoricalDtype) or column.isna().any():
            continue
        categories = column.astype("category")
        if len(categories.cat.categories) <= most:
            frame[name] = categories
    return frame


def segments(frame: pd.DataFrame) -> npt.NDArray[np.object_]:
    """Per row, the segment label (``all`` when the book has no ``segment`` column)."""
    if "segment" not in frame.columns:
        return np.full(len(frame), "all", dtype=object)
    return frame["segment"].astype(str).to_numpy(dtype=object)
