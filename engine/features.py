"""Model features, defined once for training and serving.

Training (``training``) and the real-time engine both turn a raw customer record into the
model's feature vector through :func:`build_matrix`, so a feature can never be computed
differently in the two places. A :class:`FeatureSpec` is fitted on training data (it
records the feature order and the categorical levels) and saved inside the model bundle.

Derived features are the price signals a careful modeller adds for renewal pricing: the
relative premium change and the gap to the new-business price. They depend on the
*offered* premium, so scoring the same customer at another premium (a renewal price
check) recomputes them with ``offered_premium``; the raw proposed-premium column, if it is
a feature, is replaced by the offered premium as well.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict

FloatArray = npt.NDArray[np.float64]
Columns = Mapping[str, Any] | pd.DataFrame

DerivedName = Literal["price_change", "price_to_new_business"]

DERIVED_NEEDS: Final[dict[str, tuple[str, ...]]] = {
    "price_change": ("premium", "proposed_premium"),
    "price_to_new_business": ("proposed_premium", "new_business_premium"),
}
"""Each derived feature and the contract roles it needs."""


class CategoricalFeature(BaseModel):
    """A categorical feature and its levels; the code of a level is its position."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    levels: tuple[str, ...]


class FeatureSpec(BaseModel):
    """The model's inputs: names in order, categorical levels, and the price columns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    numeric: tuple[str, ...]
    # A sequence, not a mapping: the matrix column order must survive any JSON round trip.
    categorical: tuple[CategoricalFeature, ...]
    derived: tuple[DerivedName, ...] = ()
    premium: str | None = None
    proposed_premium: str | None = None
    new_business_premium: str | None = None

    @property
    def names(self) -> list[str]:
        """Feature names in matrix column order: numeric, categorical, derived."""
        return [*self.numeric, *(c.name for c in self.categorical), *self.derived]

    @property
    def categorical_indices(self) -> list[int]:
        return list(range(len(self.numeric), len(self.numeric) + len(self.categorical)))

    @property
    def raw_columns(self) -> list[str]:
        """Every raw column a record must (or may) provide to build the features."""
        price = [c for c in (self.premium, self.proposed_premium, self.new_business_premium) if c]
        categorical = [c.name for c in self.categorical]
        return list(dict.fromkeys([*self.numeric, *categorical, *price]))

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        numeric: Sequence[str],
        categorical: Sequence[str],
        roles: Mapping[str, str | None],
    ) -> FeatureSpec:
        """Record levels of the categoricals and add every derived feature the roles allow."""
        levels = []
        for name in categorical:
            column = frame[name]
            observed = (
                [str(c) for c in column.cat.categories]
                if isinstance(column.dtype, pd.CategoricalDtype)
                else sorted(str(v) for v in column.dropna().unique())
            )
            levels.append(CategoricalFeature(name=name, levels=tuple(observed)))
        derived: list[DerivedName] = [
            name  # type: ignore[misc]  # keys of DERIVED_NEEDS are DerivedName values
            for name, needs in DERIVED_NEEDS.items()
            if all(roles.get(role) for role in needs)
        ]
        return cls(
            numeric=tuple(numeric),
            categorical=tuple(levels),
            derived=tuple(derived),
            premium=roles.get("premium"),
            proposed_premium=roles.get("proposed_premium"),
            new_business_premium=roles.get("new_business_premium"),
        )


def _numeric(data: Columns, name: str, n: int) -> FloatArray:
    value: Any = data.get(name)
    if value is None:
        return np.full(n, np.nan)
    if np.ndim(value) == 0:  # one request's scalar: the serving fast path
        return np.full(n, np.nan if pd.isna(value) else float(value))
    if isinstance(value, pd.Series):
        return np.asarray(pd.to_numeric(value, errors="coerce").astype("float64"), dtype=float)
    array = np.asarray(value)
    if array.dtype == object:
        array = np.asarray([np.nan if v is None else v for v in array], dtype=np.float64)
    return np.asarray(array, dtype=np.float64)


def _codes(data: Columns, name: str, levels: tuple[str, ...], n: int) -> FloatArray:
    """Category codes as floats; a missing or unseen level is NaN (LightGBM: missing)."""
    value: Any = data.get(name)
    if value is None:
        return np.full(n, np.nan)
    if np.ndim(value) == 0:
        code = levels.index(value) if value in levels else np.nan
        return np.full(n, float(code))
    series = value if isinstance(value, pd.Series) else pd.Series(np.asarray(value))
    series = series.astype("object").where(series.notna(), None)
    mapped = series.map({level: float(i) for i, level in enumerate(levels)}, na_action="ignore")
    return pd.to_numeric(mapped, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _length(data: Columns) -> int:
    if isinstance(data, pd.DataFrame):
        return len(data)
    lengths = {np.size(v) for v in data.values() if np.ndim(v) > 0}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    return lengths.pop() if lengths else 1


def build_matrix(
    data: Columns, spec: FeatureSpec, offered_premium: object | None = None
) -> FloatArray:
    """Feature matrix (rows × ``spec.names``) from a frame or a mapping of columns/scalars.

    ``offered_premium`` (scalar or per-row array) replaces the proposed premium, so a
    customer can be scored at any renewal price. Missing values become NaN.
    """
    n = _length(data)
    out = np.empty((n, len(spec.names)), dtype=np.float64)
    offered = None if offered_premium is None else _numeric({"p": offered_premium}, "p", n)
    j = 0
    for name in spec.numeric:
        out[:, j] = (
            offered
            if offered is not None and name == spec.proposed_premium
            else (_numeric(data, name, n))
        )
        j += 1
    for feature in spec.categorical:
        out[:, j] = _codes(data, feature.name, feature.levels, n)
        j += 1
    if spec.derived:
        proposed = offered
        if proposed is None and spec.proposed_premium:
            proposed = _numeric(data, spec.proposed_premium, n)
        for name in spec.derived:
            out[:, j] = _derived(name, data, spec, proposed, n)
            j += 1
    return out


def _derived(
    name: DerivedName, data: Columns, spec: FeatureSpec, proposed: FloatArray | None, n: int
) -> FloatArray:
    if proposed is None:
        return np.full(n, np.nan)
    # A tiny positive premium overflows to inf, as in the one-row path: no warning.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if name == "price_change" and spec.premium:
            current = _numeric(data, spec.premium, n)
            return np.where(current > 0, proposed / current - 1.0, np.nan)
        if name == "price_to_new_business" and spec.new_business_premium:
            new_business = _numeric(data, spec.new_business_premium, n)
            return np.where(new_business > 0, proposed / new_business - 1.0, np.nan)
    return np.full(n, np.nan)


def build_row(
    record: Mapping[str, object], spec: FeatureSpec, offered_premium: float | None = None
) -> FloatArray:
    """One customer's feature row (shape ``(1, k)``), computed exactly as in training.

    The serving fast path: plain Python over the record's scalars with the spec's column
    order and level codes prepared once per spec (no pandas, no per-column arrays), about
    ten times cheaper than :func:`build_matrix` on a dict. Any value that is not a plain
    scalar sends the record through :func:`build_matrix` itself; tests hold the two equal.
    """
    return _row_plan(spec).row(record, offered_premium)


_SCALARS: Final = (float, int, bool)


def _is_array(value: Any) -> bool:
    return value is not None and type(value) not in _SCALARS and np.ndim(value) != 0


def _scalar(value: Any) -> float:
    """``_numeric`` for one scalar value: a float, NaN when missing."""
    if value is None:
        return math.nan
    if type(value) in _SCALARS:
        return float(value)
    return math.nan if pd.isna(value) else float(value)


class _RowPlan:
    """A spec's column order, price columns and level codes, prepared for one-row builds."""

    def __init__(self, spec: FeatureSpec) -> None:
        self.spec = spec
        self.numeric = spec.numeric
        self.proposed = spec.proposed_premium
        self.categorical = [
            (c.name, {level: float(i) for i, level in reversed(list(enumerate(c.levels)))},
             c.levels)
            for c in spec.categorical
        ]  # fmt: skip  # reversed: a repeated level keeps its first code, as levels.index
        self.derived = spec.derived
        self.width = len(spec.names)

    def row(self, record: Mapping[str, object], offered_premium: object | None) -> FloatArray:
        # build_matrix reads any array value as rows: such a record takes that path.
        if _is_array(offered_premium) or any(_is_array(v) for v in record.values()):
            return build_matrix(record, self.spec, offered_premium)
        offered = None if offered_premium is None else _scalar(offered_premium)
        get = record.get
        values: list[float] = []
        for name in self.numeric:
            if offered is not None and name == self.proposed:
                values.append(offered)
            else:
                values.append(_scalar(get(name)))
        for name, codes, levels in self.categorical:
            value = get(name)
            if value is None:
                values.append(math.nan)
            elif type(value) is str:
                values.append(codes.get(value, math.nan))
            else:
                values.append(float(levels.index(value)) if value in levels else math.nan)
        if self.derived:
            self._derived(record, offered, values)
        return np.array([values], dtype=np.float64)

    def _derived(
        self, record: Mapping[str, object], offered: float | None, values: list[float]
    ) -> None:
        spec = self.spec
        proposed = offered
        if proposed is None and spec.proposed_premium:
            proposed = _scalar(record.get(spec.proposed_premium))
        for name in self.derived:
            base = (
                spec.premium
                if name == "price_change"
                else spec.new_business_premium
                if name == "price_to_new_business"
                else None
            )
            if proposed is None or not base:
                values.append(math.nan)
                continue
            current = _scalar(record.get(base))
            values.append(proposed / current - 1.0 if current > 0 else math.nan)


_PLANS: dict[int, _RowPlan] = {}


def _row_plan(spec: FeatureSpec) -> _RowPlan:
    plan = _PLANS.get(id(spec))
    if plan is None or plan.spec is not spec:  # an id can be reused once a spec is gone
        plan = _RowPlan(spec)
        if len(_PLANS) >= 64:
            _PLANS.clear()
        _PLANS[id(spec)] = plan
    return plan
