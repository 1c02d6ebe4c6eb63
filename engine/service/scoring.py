"""Scores for one customer from the live bundle: churn, value, uplift and reason codes.

No DataFrame is built per request: :func:`engine.features.build_row` turns the record (a
plain dict) into one numpy row (~15 µs, equal to ``build_matrix``'s by test), and every
booster predicts on it through LightGBM's single-row fast path
(``LGBM_BoosterPredictForMatSingleRowFast``, prepared once per live bundle, one thread):
~13 µs for the churn model instead of ~60–90 µs through ``Booster.predict``, which builds a
new predictor on every call. The numbers are LightGBM's own, bit for bit (tested); if the
fast path is unavailable (a LightGBM without it), ``Booster.predict`` is used instead.

Reason codes come from LightGBM's per-feature contributions (``pred_contrib``) of the churn
model, the costliest step of a decision (0.7–2 ms, growing with the number of trees). They
are cached per (model version, inputs digest): the same customer with the same features
costs it once per model, and the consistency window means a repeat request rarely reaches
the scorer anyway. Only the churn model is explained (the agent's question is "why might
they leave?"); uplift models are not.
"""

from __future__ import annotations

import ctypes
import math
import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np

from engine.decision import PriceResponse, Scores
from engine.features import build_row
from engine.scoring.bundle import ModelBundle
from engine.service.errors import InvalidRequest
from engine.service.models import LiveModel
from engine.service.wording import reason_sentence

TOP_REASONS = 3
NAN = math.nan


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

    def __init__(self, reason_cache_size: int = 50_000) -> None:
        self._size = reason_cache_size
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
        made = _Predictors(bundle)
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
        uplift = {action: _first(u.predict(row)) for action, u in fast.uplift.items()}
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
        contributions = self.predictors(live.bundle).contrib.predict(x[0])[:-1]
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

    def __init__(self, booster: lgb.Booster, *, contrib: bool = False) -> None:
        self.booster = booster
        self.contrib = contrib
        self.width = booster.num_feature()
        self._lock = threading.Lock()
        self._out = np.empty(self.width + 1 if contrib else 1, dtype=np.float64)
        self._length = ctypes.c_int64()
        self._handle: ctypes.c_void_p | None = None
        try:
            from lightgbm.basic import _LIB, _safe_call  # type: ignore[attr-defined]

            handle = ctypes.c_void_p()
            iterations = booster.best_iteration  # as Booster.predict's default
            _safe_call(
                _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                    booster._handle,
                    ctypes.c_int(3 if contrib else 0),  # C_API_PREDICT_CONTRIB / _NORMAL
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
        self._out_ptr = self._out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        weakref.finalize(self, _LIB.LGBM_FastConfigFree, handle)

    @property
    def fast(self) -> bool:
        return self._handle is not None

    def predict(self, row: np.ndarray) -> np.ndarray:
        """The prediction (or contributions, with the expected value last) for one row."""
        if self._handle is None or row.shape != (self.width,) or row.dtype != np.float64:
            x = np.asarray(row, dtype=np.float64).reshape(1, -1)
            found = self.booster.predict(x, pred_contrib=self.contrib, num_threads=1)
            return np.asarray(found, dtype=np.float64).reshape(-1)
        data = np.ascontiguousarray(row)
        with self._lock:
            self._check(
                self._call(
                    self._handle,
                    data.ctypes.data_as(ctypes.c_void_p),
                    ctypes.byref(self._length),
                    self._out_ptr,
                )
            )
            return self._out.copy()


class _Predictors:
    """Single-row predictors of one bundle: churn, its contributions, each uplift model."""

    def __init__(self, bundle: ModelBundle) -> None:
        self.bundle = bundle
        self.churn = RowPredictor(bundle.churn)
        self.contrib = RowPredictor(bundle.churn, contrib=True)
        self.uplift = {a: RowPredictor(m) for a, m in bundle.uplift_models.items()}


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
        margin = value.annual_margin(record)
        basis = value.renewal_margin(record) if renewal else margin
        return _first(margin), _first(value.clv(record, basis))
    except (KeyError, TypeError, ValueError):
        return NAN, NAN


def _level(levels: Mapping[int, tuple[str, ...]], index: int, code: float) -> str | None:
    names = levels.get(int(index))
    if names is None or math.isnan(code) or not 0 <= int(code) < len(names):
        return None
    return names[int(code)]
