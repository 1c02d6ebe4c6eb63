"""Choosing and fitting the churn probability calibration on validation data."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import logit
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from engine.scoring.calibration import Calibrator

FloatArray = npt.NDArray[np.float64]


def _fit(kind: str, p: FloatArray, y: FloatArray) -> Calibrator:
    if kind == "isotonic":
        iso = IsotonicRegression(out_of_bounds="clip", y_min=1e-4, y_max=1 - 1e-4).fit(p, y)
        return Calibrator(
            kind="isotonic",
            x=tuple(float(v) for v in iso.X_thresholds_),
            y=tuple(float(v) for v in iso.y_thresholds_),
        )
    z = logit(np.clip(p, 1e-6, 1 - 1e-6)).reshape(-1, 1)
    platt = LogisticRegression(C=1e6).fit(z, y)
    return Calibrator(kind="platt", a=float(platt.coef_[0, 0]), b=float(platt.intercept_[0]))


def choose_calibrator(
    p: FloatArray, y: FloatArray, seed: int
) -> tuple[Calibrator, dict[str, float]]:
    """Isotonic or Platt, whichever has the lower out-of-fold log-loss on ``(p, y)``.

    Two folds: each method is fitted on one half and scored on the other, so the flexible
    isotonic map does not win by memorising the validation rows. The winner is refitted on
    all of them. Returns the calibrator and each method's out-of-fold log-loss.
    """
    fold = np.random.default_rng(seed).random(len(p)) < 0.5
    losses: dict[str, float] = {}
    for kind in ("isotonic", "platt"):
        out_of_fold = np.empty_like(p)
        for held in (fold, ~fold):
            out_of_fold[held] = _fit(kind, p[~held], y[~held]).apply(p[held])
        losses[kind] = float(log_loss(y, np.clip(out_of_fold, 1e-6, 1 - 1e-6), labels=[0, 1]))
    best = min(losses, key=lambda kind: losses[kind])
    return _fit(best, p, y), losses
