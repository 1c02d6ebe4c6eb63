"""The columns a vectorised decision reads from a DataFrame, prepared once per batch.

A batch frame holds, one row per customer:

* the customer id (``id_column``, default ``customer_id``) and the declared fields;
* the scores ``p_churn``, ``clv``, ``margin``; per action ``uplift__<action id>``;
* optionally the context per row (``channel``, ``intent``, ``event``), else the batch
  ``Context`` applies to every row;
* optionally the contact history: ``contact_offers_in_window`` (offers within the contact
  policy's window), ``contact_last_decline_at`` (datetime, NaT: never) and per action
  ``contact_offers__<action id>`` (offers of that action within its per-customer cap's
  window). Absent columns mean no history.

Text columns are turned into pandas categoricals once here, so that every expression over
them compares a few categories instead of a million strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.rules import RuleSet
from engine.rules.expression import StringEnum, ValueType

from .inputs import Context, Numbers, as_utc_naive

UPLIFT_PREFIX = "uplift__"
OFFERS_IN_WINDOW = "contact_offers_in_window"
LAST_DECLINE_AT = "contact_last_decline_at"
ACTION_OFFERS_PREFIX = "contact_offers__"
_CONTEXT = ("channel", "intent", "event")
ROWS = "#rows"


@dataclass(frozen=True, slots=True)
class FrameInputs:
    length: int
    columns: Mapping[str, object]
    """Expression inputs: name → array, Series, Categorical or a scalar for every row."""
    customer_ids: npt.NDArray[np.object_]
    now: datetime
    frame: pd.DataFrame

    def numbers(self, name: str) -> Numbers:
        return as_numbers(self.columns.get(name), self.length)

    def value_at(self, name: str, row: int) -> object:
        """One row's value, as a per-customer decision would see it in its features."""
        found = self.columns.get(name)
        if isinstance(found, pd.Series):
            return found.iloc[row]
        if isinstance(found, np.ndarray | pd.Categorical):
            return found[row]
        return found


def prepare(rules: RuleSet, frame: pd.DataFrame, context: Context, id_column: str) -> FrameInputs:
    if id_column not in frame.columns:
        raise KeyError(f"the frame has no customer id column {id_column!r}")
    length = len(frame)
    # The expression module sizes a mapping by its first array (and would take a mapping of
    # scalars as one row): this key, never a field name, makes every batch its own length.
    columns: dict[str, object] = {ROWS: np.zeros(length, dtype=np.bool_)}
    for name, declared in rules.schema.items():
        if name in _CONTEXT:
            continue
        if name in frame.columns:
            columns[name] = _column(frame[name], declared)
    for name in _CONTEXT:
        if name in frame.columns:
            columns[name] = _column(frame[name], ValueType.STRING)
        else:
            columns[name] = getattr(context, name)
    ids = frame[id_column].to_numpy(dtype=object)
    return FrameInputs(length, columns, ids, as_utc_naive(context.now), frame)


def as_numbers(raw: object, length: int) -> Numbers:
    """float64 per row, NaN where missing or absent."""
    if raw is None:
        return np.full(length, np.nan)
    if isinstance(raw, pd.Series):
        return np.asarray(
            pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        )
    array = np.asarray(raw, dtype=np.float64)
    return np.broadcast_to(array, (length,)) if array.ndim == 0 else array


def member(raw: object, allowed: frozenset[str] | None, length: int) -> npt.NDArray[np.bool_]:
    """Per row: the (text) value is in ``allowed``; everything passes when ``allowed`` is None."""
    if allowed is None:
        return np.ones(length, dtype=np.bool_)
    if isinstance(raw, pd.Categorical):
        inside = np.append(raw.categories.isin(list(allowed)), False)
        return np.asarray(inside[np.asarray(raw.codes)], dtype=np.bool_)
    return np.full(length, raw in allowed)


def datetimes(raw: pd.Series, length: int) -> npt.NDArray[np.datetime64]:
    """UTC-naive datetime64[ns] per row, NaT where missing."""
    values = pd.to_datetime(raw)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return np.asarray(values.to_numpy(dtype="datetime64[ns]"))


def _column(series: pd.Series, declared: object) -> object:
    if isinstance(declared, StringEnum) or declared is ValueType.STRING:
        if isinstance(series.dtype, pd.CategoricalDtype):
            return series.array
        return pd.Categorical(series.astype(object).where(series.notna(), None))
    if declared is ValueType.NUMBER and series.dtype.kind in "fiu":
        return series.to_numpy()
    return series
