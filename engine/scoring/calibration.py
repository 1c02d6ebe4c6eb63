"""Probability calibration maps, stored as plain numbers inside the model bundle."""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict
from scipy.special import expit, logit

FloatArray = npt.NDArray[np.float64]

_EPS = 1e-6


class Calibrator(BaseModel):
    """Maps a raw model probability to a calibrated one.

    ``isotonic``: piecewise-linear through ``(x, y)`` (clipped at the ends), as scikit-learn's
    ``IsotonicRegression`` predicts. ``platt``: ``sigmoid(a · logit(p) + b)``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["isotonic", "platt", "identity"]
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()
    a: float = 1.0
    b: float = 0.0

    def apply(self, p: FloatArray) -> FloatArray:
        if self.kind == "isotonic":
            return np.asarray(np.interp(p, self.x, self.y), dtype=np.float64)
        if self.kind == "platt":
            return np.asarray(
                expit(self.a * logit(np.clip(p, _EPS, 1 - _EPS)) + self.b), dtype=np.float64
            )
        return np.asarray(p, dtype=np.float64)
