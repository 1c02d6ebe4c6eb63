"""Scores for one customer from the live bundle: churn, value, uplift and reason codes.

No DataFrame is built per request: the bundle's ``matrix`` turns the record (a plain dict)
into one numpy row, and every booster predicts on it with ``num_threads=1`` (tens of µs;
a one-row DataFrame alone costs over a millisecond).

Reason codes come from LightGBM's per-feature contributions (``pred_contrib``) of the churn
model, the costliest step of a decision (0.7–2 ms, growing with the number of trees). They
are cached per (model version, inputs digest): the same customer with the same features
costs it once per model, and the consistency window means a repeat request rarely reaches
the scorer anyway. Only the churn model is explained (the agent's question is "why might
they leave?"); uplift models are not.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from engine.decision import PriceResponse, Scores
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
        self.hits = 0
        self.misses = 0

    def score(
        self, live: LiveModel, record: Mapping[str, object], digest: str
    ) -> tuple[Scores, tuple[ReasonCode, ...]]:
        bundle = live.bundle
        x = bundle.matrix(record)
        p_churn = _first(bundle.p_churn(x, threads=1))
        uplift = {action: _first(u) for action, u in bundle.uplift(x, threads=1).items()}
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
        contributions = live.bundle.churn.predict(x, pred_contrib=True, num_threads=1)[0][:-1]
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

        def at(premiums: np.ndarray) -> np.ndarray:
            x = np.vstack([bundle.matrix(record, offered_premium=float(p)) for p in premiums])
            return bundle.p_churn(x, threads=1)

        return at


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
