"""Scores for one customer from the live bundle: churn, value, uplift and reason codes.

No DataFrame is built per request: :func:`engine.features.build_row` turns the record (a
plain dict) into one numpy row (~15 µs, equal to ``build_matrix``'s by test), and every
booster predicts on it through LightGBM's single-row fast path
(``LGBM_BoosterPredictForMatSingleRowFast``, prepared once per live bundle, one thread):
~13 µs for the churn model instead of ~60–90 µs through ``Booster.predict``, which builds a
new predictor on every call. The numbers are LightGBM's own, bit for bit (tested); if the
fast path is unavailable (a LightGBM without it), ``Booster.predict`` is used instead.

Reason codes come from per-feature contributions to the churn model's log-odds. By default
they are *path* contributions (:mod:`engine.scoring.path_contributions`): one leaf-index call
plus a table gather, ~20 µs, adding up exactly like TreeSHAP's; the top three agree with
TreeSHAP's ranking for most customers (measured in ``bench/service.py``). ``treeshap``
(``RETENTION_REASON_METHOD``) asks LightGBM for the exact TreeSHAP values (``pred_contrib``,
0.7–2 ms, growing with the number of trees). Either way they are cached per (model version,
inputs digest). Only the churn model is explained (the agent's question is "why might they
leave?"); uplift models are not.
"""

from __future__ import annotations

import ctypes
import math
import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import lightgbm as lgb
import numpy as np

from engine.decision import PriceResponse, Scores
from engine.features import build_row
from engine.scoring.bundle import ModelBundle
from engine.scoring.path_contributions import PathContributions
from engine.service.errors import InvalidRequest
from engine.service.models import LiveModel
from engine.service.wording import reason_sentence

TOP_REASONS = 3
NAN = math.nan

ReasonMethod = Literal["path", "treeshap"]
PredictMode = Literal["value", "contrib", "leaf"]
_PREDICT_TYPE = {"value": 0, "leaf": 2, "contrib": 3}  # LightGBM's C_API_PREDICT_*


@dataclass(frozen=True, slots=True)
class ReasonCode:
    feature: str
    value: float | None
    contribution: float
    """Change in the churn model's log-odds this feature causes for this customer."""
    text: str


def check_inline(features: Mapping[str, object], live: LiveModel) -> None:
    """Refuse inline values the model cannot read as numbers (names the field)."""
    spec = live.bundle.features
    for name in spec.numeric:
        value = features.get(name)
        if value is not None and not isinstance(value, int | float):
            raise InvalidRequest(
                f"features.{name}: a number is required, got {type(value).__name__}",
                field=f"features.{name}",
            )


def _first(values: object) -> float:
    try:
        return float(np.asarray(values, dtype=np.float64).reshape(-1)[0])
    except (TypeError, ValueError, IndexError):
        return NAN


class Scorer:
    """Scores with a reason-code cache shared by every request of the process."""

    def __init__(self, reason_cache_size: int = 50_000, method: ReasonMethod = "path") -> None:
        self._size = reason_cache_size
        self.method: ReasonMethod = method
        self._reasons: OrderedDict[tuple[str, str], tuple[ReasonCode, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self._predictors: dict[int, _Predictors] = {}
        self.hits = 0
        self.misses = 0

    def predictors(self, bundle: ModelBundle) -> _Predictors:
        """The bundle's single-row predictors, prepared on its first request."""
        found = self._predictors.get(id(bundle))
        if found is not None and found.bundle is bundle:
            return found
        made = _Predictors(bundle, self.method)
        with self._lock:
            if len(self._predictors) >= 2:  # the live bundle and the one it replaced
                self._predictors.pop(next(iter(self._predictors)))
            self._predictors[id(bundle)] = made
        return made

    def score(
        self, live: LiveModel, record: Mapping[str, object], digest: str
    ) -> tuple[Scores, tuple[ReasonCode, ...]]:
        bundle = live.bundle
        fast = self.predictors(bundle)
        x = build_row(record, bundle.features)
        row = x[0]
        p_churn = _first(bundle.manifest.calibrator.apply(fast.churn.predict(row)))
        uplift = {action: u.value(row) for action, u in fast.uplift.items()}
        margin, clv = value_of(live, record, renewal=True)
        return Scores(p_churn, clv, margin, uplift), self.reasons(live, x, digest)

    def reasons(self, live: LiveModel, x: np.ndarray, digest: str) -> tuple[ReasonCode, ...]:
        key = (live.version, digest)
        with self._lock:
            found = self._reasons.get(key)
            if found is not None:
                self._reasons.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        contributions = self.predictors(live.bundle).contributions(x[0])
        spec = live.bundle.features
        names = spec.names
        levels = {len(spec.numeric) + i: c.levels for i, c in enumerate(spec.categorical)}
        top = np.argsort(-np.abs(contributions))[:TOP_REASONS]
        codes = tuple(
            ReasonCode(
                feature=names[i],
                value=None if math.isnan(x[0, i]) else float(x[0, i]),
                contribution=round(float(contributions[i]), 4),
                text=reason_sentence(
                    names[i], float(x[0, i]), float(contributions[i]), _level(levels, i, x[0, i])
                ),
            )
            for i in top
            if contributions[i] != 0.0
        )
        with self._lock:
            self._reasons[key] = codes
            if len(self._reasons) > self._size:
                self._reasons.popitem(last=False)
        return codes

    @staticmethod
    def price_response(live: LiveModel, record: Mapping[str, object]) -> PriceResponse:
        """Churn probability of this customer at given premiums (one booster call)."""
        bundle = live.bundle
        spec = bundle.features

        def at(premiums: np.ndarray) -> np.ndarray:
            x = np.vstack([build_row(record, spec, float(p)) for p in premiums])
            return bundle.p_churn(x, threads=1)

        return at


class RowPredictor:
    """One booster's predictions for one row, through LightGBM's single-row fast path.

    ``LGBM_BoosterPredictForMatSingleRowFastInit`` parses the prediction parameters once;
    each call then costs the trees alone. It is LightGBM's C API, reached through the
    ``lightgbm`` package's own library handle (not a public Python API): when that is not
    there, or the width does not match the booster, ``Booster.predict`` answers instead.
    Calls are serialised per predictor (one output buffer; the C call releases the GIL).
    """

    def __init__(self, booster: lgb.Booster, mode: PredictMode = "value") -> None:
        self.booster = booster
        self.mode: PredictMode = mode
        self.width = booster.num_feature()
        self._lock = threading.Lock()
        size = {"value": 1, "contrib": self.width + 1, "leaf": booster.num_trees()}[mode]
        self._out = np.empty(size, dtype=np.float64)
        self._length = ctypes.c_int64()
        self._handle: ctypes.c_void_p | None = None
        try:
            from lightgbm.basic import _LIB, _safe_call  # type: ignore[attr-defined]

            handle = ctypes.c_void_p()
            iterations = booster.best_iteration  # as Booster.predict's default
            _safe_call(
                _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                    booster._handle,
                    ctypes.c_int(_PREDICT_TYPE[mode]),
                    ctypes.c_int(0),
                    ctypes.c_int(iterations),
                    ctypes.c_int(1),  # C_API_DTYPE_FLOAT64
                    ctypes.c_int32(self.width),
                    ctypes.c_char_p(b"num_threads=1"),
                    ctypes.byref(handle),
                )
            )
        except (ImportError, AttributeError, lgb.basic.LightGBMError):
            return
        self._handle = handle
        self._call = _LIB.LGBM_BoosterPredictForMatSingleRowFast
        self._check = _safe_call
        # Fixed buffers and their ctypes pointers, made once: building them per call cost
        # as much as a small model's trees.
        self._in = np.empty(self.width, dtype=np.float64)
        self._in_ptr = ctypes.c_void_p(self._in.ctypes.data)
        self._length_ref = ctypes.byref(self._length)
        self._out_ptr = self._out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        weakref.finalize(self, _LIB.LGBM_FastConfigFree, handle)

    @property
    def fast(self) -> bool:
        return self._handle is not None

    def predict(self, row: np.ndarray) -> np.ndarray:
        """The prediction for one row; in ``contrib`` mode the contributions with the expected
        value last; in ``leaf`` mode the leaf index in each tree (as floats)."""
        if not self._fast_for(row):
            x = np.asarray(row, dtype=np.float64).reshape(1, -1)
            found = self.booster.predict(
                x,
                pred_contrib=self.mode == "contrib",
                pred_leaf=self.mode == "leaf",
                num_threads=1,
            )
            return np.asarray(found, dtype=np.float64).reshape(-1)
        with self._lock:
            self._run(row)
            return self._out[: self._length.value].copy()

    def value(self, row: np.ndarray) -> float:
        """The first output for one row as a float (a probability or a regression value)."""
        if not self._fast_for(row):
            return float(self.predict(row)[0])
        with self._lock:
            self._run(row)
            return float(self._out[0])

    def _fast_for(self, row: np.ndarray) -> bool:
        return self._handle is not None and row.shape == (self.width,) and row.dtype == np.float64

    def _run(self, row: np.ndarray) -> None:
        """The C call on ``row``; the caller holds the lock and reads ``_out`` under it."""
        self._in[:] = row
        self._check(self._call(self._handle, self._in_ptr, self._length_ref, self._out_ptr))


class _Predictors:
    """Single-row predictors of one bundle: churn, its contributions, each uplift model."""

    def __init__(self, bundle: ModelBundle, method: ReasonMethod = "path") -> None:
        self.bundle = bundle
        self.churn = RowPredictor(bundle.churn)
        self.uplift = {a: RowPredictor(m) for a, m in bundle.uplift_models.items()}
        self.path: PathContributions | None = None
        if method == "path":
            try:
                self.path = PathContributions(bundle.churn)
            except ValueError:  # not a single-output model: exact TreeSHAP instead
                self.path = None
        self.leaves = RowPredictor(bundle.churn, "leaf") if self.path else None
        self.contrib = RowPredictor(bundle.churn, "contrib")

    def contributions(self, row: np.ndarray) -> np.ndarray:
        """Per-feature contributions to the churn log-odds for one row."""
        if self.path is not None and self.leaves is not None:
            return self.path.contributions(self.leaves.predict(row))
        return self.contrib.predict(row)[:-1]


def value_of(
    live: LiveModel, record: Mapping[str, object], *, renewal: bool
) -> tuple[float, float]:
    """(annual margin, lifetime value if the customer renews); NaN when a column is missing.

    ``renewal``: value at the renewal premium (next-best action); else at current terms
    (the renewal check corrects for the price change itself)."""
    value = live.bundle.manifest.value
    if value is None:
        return NAN, NAN
    try:
        return value.for_record(record, renewal=renewal)
    except (KeyError, TypeError, ValueError):
        return NAN, NAN


def _level(levels: Mapping[int, tuple[str, ...]], index: int, code: float) -> str | None:
    names = levels.get(int(index))
    if names is None or math.isnan(code) or not 0 <= int(code) < len(names):
        return None
    return names[int(code)]
