"""Read the columns an expression needs from a DataFrame or a mapping of arrays and scalars.

Each field becomes one of three column forms, each with an explicit notion of missing:

* numbers: a float64 array, NaN where missing (pandas nullable and object columns included);
* bools: a bool array plus a missing mask (None when nothing can be missing);
* strings: integer codes into an array of distinct values, -1 where missing. A pandas
  categorical already is that, for free; any other column is factorised once. Every string
  operation then works on the few distinct values and gathers by code, instead of comparing
  a million Python strings.

A scalar (e.g. the channel of a whole batch) is a 0-d array and broadcasts; an absent field
is missing in every row, as an absent key is in a row. Series are read by position, not
aligned on their index.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.errors import RuleError

from .schema import BOOL_VALUES

Numbers = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
Codes = npt.NDArray[np.intp]
Frame = pd.DataFrame | Mapping[str, object]


@dataclass(frozen=True, slots=True)
class Bools:
    values: Mask
    missing: Mask | None  # None: no row is missing

    def truth(self) -> Mask:
        return self.values if self.missing is None else self.values & ~self.missing


@dataclass(frozen=True, slots=True)
class Strings:
    codes: Codes  # -1 where missing
    categories: npt.NDArray[np.object_]


def frame_length(frame: Frame) -> int:
    if isinstance(frame, pd.DataFrame):
        return len(frame)
    for value in frame.values():
        if np.ndim(value) >= 1:  # type: ignore[arg-type]
            return len(value)  # type: ignore[arg-type]
    return 1  # scalars only: one row


def column(frame: Frame, name: str) -> object:
    """The raw column or scalar for ``name``; ``None`` (all missing) when it is absent."""
    if isinstance(frame, pd.DataFrame):
        if name not in frame.columns:
            return None
        found = frame[name]
        if isinstance(found, pd.DataFrame):
            raise RuleError(f"the frame has more than one column named {name!r}")
        return found
    return frame.get(name)


def numbers(raw: object, name: str, length: int) -> Numbers:
    try:
        if _is_scalar(raw):
            return np.asarray(np.nan if _scalar_missing(raw) else float(raw), dtype=np.float64)  # type: ignore[arg-type]
        if isinstance(raw, np.ndarray) and raw.dtype.kind in "fiub":
            result = raw.astype(np.float64, copy=False)
        else:
            series = raw if isinstance(raw, pd.Series) else pd.Series(_one_dimensional(raw))
            result = series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as error:
        raise RuleError(f"column {name!r} cannot be read as numbers: {error}") from None
    return _checked(result, name, length)


def bools(raw: object, name: str, length: int) -> Bools:
    if _is_scalar(raw):
        try:
            value = BOOL_VALUES.get(raw)
        except TypeError:
            value = None
        return Bools(np.asarray(bool(value)), np.asarray(value is None))
    if isinstance(raw, pd.Series) and raw.dtype == "boolean":
        values = raw.to_numpy(dtype=np.bool_, na_value=False)
        return Bools(_checked(values, name, length), raw.isna().to_numpy())
    array = np.asarray(raw.to_numpy() if isinstance(raw, pd.Series) else _one_dimensional(raw))
    _checked(array, name, length)
    if array.dtype.kind == "b":
        return Bools(array, None)
    if array.dtype.kind == "O":
        absent = np.asarray(pd.isna(array), dtype=np.bool_)
        array = np.where(absent, 0, array)
    elif array.dtype.kind in "iuf":
        absent = np.zeros(array.shape, dtype=np.bool_)
    else:
        raise RuleError(f"column {name!r} cannot be read as true/false (dtype {array.dtype})")
    # True/1/1.0 and False/0/0.0, as in a row; any other value counts as missing.
    is_true = np.asarray(np.equal(array, 1), dtype=np.bool_)
    is_false = np.asarray(np.equal(array, 0), dtype=np.bool_)
    return Bools(is_true, absent | ~(is_true | is_false))


def strings(raw: object, name: str, length: int) -> Strings:
    if _is_scalar(raw):
        if _scalar_missing(raw):
            return Strings(np.asarray(-1, dtype=np.intp), np.empty(0, dtype=object))
        return Strings(np.asarray(0, dtype=np.intp), np.asarray([raw], dtype=object))
    if isinstance(raw, pd.Series) and isinstance(raw.dtype, pd.CategoricalDtype):
        raw = raw.array
    if isinstance(raw, pd.Categorical):
        codes = np.asarray(raw.codes, dtype=np.intp)
        categories = np.asarray(raw.categories.to_numpy(dtype=object), dtype=object)
    else:
        data = raw if isinstance(raw, pd.Series) else _one_dimensional(raw)
        found, uniques = pd.factorize(data)
        codes = np.asarray(found, dtype=np.intp)
        categories = np.asarray(pd.Index(uniques).to_numpy(dtype=object), dtype=object)
    return Strings(_checked(codes, name, length), categories)


def _is_scalar(raw: object) -> bool:
    return raw is None or (not isinstance(raw, pd.Series | pd.Categorical) and np.ndim(raw) == 0)  # type: ignore[arg-type]


def _scalar_missing(raw: object) -> bool:
    return raw is None or raw is pd.NA or (isinstance(raw, float | np.floating) and raw != raw)


def _one_dimensional(raw: object) -> Any:
    if isinstance(raw, np.ndarray | pd.api.extensions.ExtensionArray | pd.Index):
        return raw
    return np.asarray(raw, dtype=object)  # a list or another sequence


def _checked(array: npt.NDArray[Any], name: str, length: int) -> npt.NDArray[Any]:
    if array.ndim != 1 or len(array) != length:
        raise RuleError(f"column {name!r} has shape {array.shape}, but the frame has {length} rows")
    return array
