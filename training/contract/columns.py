"""Check and convert one column to its declared kind, vectorised; never coerce silently.

Each function takes the raw column (text from a CSV, or whatever dtype an in-memory frame or a
Parquet file has) and returns the clean column plus the problems found. A cell is *missing*
when it is NaN/None, empty or blank (only whitespace), or one of the contract's
``missing_values``; anything else must convert exactly or it is a problem.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from training.contract.problems import Problem, rows_problem
from training.contract.schema import (
    BooleanColumn,
    CategoricalColumn,
    ColumnSpec,
    FloatColumn,
    IntegerColumn,
    StringColumn,
)

Mask = npt.NDArray[np.bool_]
Converted = tuple[pd.Series, list[Problem]]

_MAX_EXACT_INTEGER = 2.0**53
_DEFAULT_TRUE: tuple[str, ...] = ("true", "1", "1.0")
_DEFAULT_FALSE: tuple[str, ...] = ("false", "0", "0.0")


def convert_column(
    name: str, raw: pd.Series, spec: ColumnSpec, *, nullable: bool, missing_values: list[str]
) -> Converted:
    """The clean column and its problems (an empty list when the column is fine)."""
    missing = missing_mask(raw, missing_values)
    problems: list[Problem] = []
    if not nullable:
        what = "a missing value (the column is not nullable)"
        _add(problems, rows_problem(name, what, missing))
    if isinstance(spec, FloatColumn | IntegerColumn):
        clean, found = _numeric(name, raw, spec, missing, nullable=nullable)
    elif isinstance(spec, BooleanColumn):
        clean, found = _boolean(name, raw, spec, missing, nullable=nullable)
    elif isinstance(spec, CategoricalColumn):
        clean, found = _categorical(name, raw, spec, missing)
    else:
        clean, found = _string(raw, spec, missing)
    return clean, problems + found


def missing_mask(raw: pd.Series, missing_values: list[str]) -> Mask:
    """True where a cell is NaN/None, empty, blank, or a declared missing text."""
    mask: Mask = raw.isna().to_numpy(dtype=bool)
    if is_numeric_dtype(raw.dtype) or is_bool_dtype(raw.dtype):
        return mask
    text = raw.astype("str")
    mask = mask | (text.str.strip() == "").to_numpy(dtype=bool, na_value=False)
    if missing_values:
        mask = mask | text.isin(missing_values).to_numpy(dtype=bool)
    return mask


def _numeric(
    name: str, raw: pd.Series, spec: FloatColumn | IntegerColumn, missing: Mask, *, nullable: bool
) -> Converted:
    problems: list[Problem] = []
    if is_bool_dtype(raw.dtype):
        what = f"a true/false value in a {spec.kind} column (declare kind: boolean)"
        _add(problems, rows_problem(name, what, ~missing, raw))
        return raw, problems
    exact: npt.NDArray[np.int64] | None = None
    if isinstance(raw.dtype, np.dtype) and raw.dtype.kind == "i":
        exact = raw.to_numpy(dtype="int64")
        values = exact.astype("float64")
    elif is_numeric_dtype(raw.dtype):
        values = raw.to_numpy(dtype="float64", na_value=np.nan)
    else:
        values = _parse_numbers(raw.astype("str").where(~missing))
        bad_text = ~missing & np.isnan(values)
        _add(problems, rows_problem(name, "text that is not a number", bad_text, raw))
    finite = np.isfinite(values)
    _add(problems, rows_problem(name, "an infinite value", np.isinf(values), raw))
    if isinstance(spec, IntegerColumn) and exact is None:
        fraction = finite & (values != np.floor(values))
        _add(problems, rows_problem(name, "a value that is not a whole number", fraction, raw))
        huge = finite & (np.abs(values) > _MAX_EXACT_INTEGER)
        _add(problems, rows_problem(name, "an integer too large to hold exactly", huge, raw))
    if spec.min is not None:
        low = values <= spec.min if spec.min_exclusive else values < spec.min
        bound = f"{'>' if spec.min_exclusive else '>='} {spec.min:g}"
        _add(problems, rows_problem(name, f"a value out of range (must be {bound})", low, raw))
    if spec.max is not None:
        high = values >= spec.max if spec.max_exclusive else values > spec.max
        bound = f"{'<' if spec.max_exclusive else '<='} {spec.max:g}"
        _add(problems, rows_problem(name, f"a value out of range (must be {bound})", high, raw))
    clean = not problems and not missing.any()
    if isinstance(spec, IntegerColumn) and not nullable and clean:
        ints = exact if exact is not None else values.astype("int64")
        return pd.Series(ints, name=name), problems
    return pd.Series(values, name=name), problems


def _boolean(
    name: str, raw: pd.Series, spec: BooleanColumn, missing: Mask, *, nullable: bool
) -> Converted:
    """Native booleans are always fine; any other cell is read as text (``1`` as ``"1"``)."""
    problems: list[Problem] = []
    if is_bool_dtype(raw.dtype):
        truth: Mask = raw.to_numpy(dtype=bool, na_value=False)
    else:
        text = raw.astype("str")
        if spec.true_values is None or spec.false_values is None:
            text = text.str.lower()
            true_values, false_values = _DEFAULT_TRUE, _DEFAULT_FALSE
            accepted = "true/false or 1/0"
        else:
            true_values, false_values = tuple(spec.true_values), tuple(spec.false_values)
            accepted = ", ".join(repr(v) for v in true_values + false_values)
        truth = text.isin(true_values).to_numpy(dtype=bool)
        falsity = text.isin(false_values).to_numpy(dtype=bool)
        unexpected = ~missing & ~truth & ~falsity
        _add(problems, rows_problem(name, f"a value other than {accepted}", unexpected, raw))
    if nullable:
        values = np.where(missing, np.nan, truth.astype("float64"))
        return pd.Series(values, name=name), problems
    return pd.Series(truth.astype("int8"), name=name), problems


def _categorical(name: str, raw: pd.Series, spec: CategoricalColumn, missing: Mask) -> Converted:
    problems: list[Problem] = []
    text = raw.astype("str").where(~missing)
    if spec.values is not None:
        outside = ~missing & ~text.isin(spec.values).to_numpy(dtype=bool)
        allowed = ", ".join(repr(v) for v in spec.values)
        _add(problems, rows_problem(name, f"a value not among the allowed {allowed}", outside, raw))
        if problems:
            return text, problems
        categories = list(spec.values)
    else:
        categories = sorted(text.dropna().unique())
    clean = pd.Series(pd.Categorical(text, categories=categories), name=name)
    return clean, problems


def _string(raw: pd.Series, spec: StringColumn, missing: Mask) -> Converted:
    del spec  # no options beyond nullable
    return raw.astype("str").where(~missing), []


def _parse_numbers(text: pd.Series) -> npt.NDArray[np.float64]:
    """Text to float64 (NaN where missing or not a number); Arrow's fast cast when all parse."""
    try:
        parsed = pc.cast(pa.array(text, type=pa.string(), from_pandas=True), pa.float64())
        return np.asarray(parsed.to_numpy(zero_copy_only=False), dtype="float64")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return np.asarray(pd.to_numeric(text, errors="coerce"), dtype="float64")


def _add(problems: list[Problem], problem: Problem | None) -> None:
    if problem is not None:
        problems.append(problem)
