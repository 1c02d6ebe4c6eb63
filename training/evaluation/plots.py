"""Report plots for churn and uplift models, saved as PNG files.

Figures are built as ``matplotlib.figure.Figure`` objects and written with the Agg canvas:
no pyplot, no global state, nothing done at import time, safe in worker threads and on
machines without a display. Each function returns the path it wrote (parent folders are
created).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from training.evaluation.metrics import Z95, Curve, calibration_table, gains_curve

__all__ = [
    "plot_calibration",
    "plot_feature_importance",
    "plot_gains",
    "plot_qini",
    "plot_uplift_calibration",
]

_SIZE = (6.0, 4.5)
_DPI = 100


def _named(values: ArrayLike | Mapping[str, ArrayLike], default: str) -> dict[str, ArrayLike]:
    if isinstance(values, Mapping):
        if not values:
            raise ValueError("nothing to plot")
        return dict(values)
    return {default: values}


def _save(fig: Figure, path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(out, format="png", dpi=_DPI)
    return out


def plot_calibration(
    y_true: ArrayLike,
    p: ArrayLike | Mapping[str, ArrayLike],
    path: str | Path,
    *,
    n_bins: int = 10,
    title: str = "Calibration",
) -> Path:
    """Reliability diagram: observed churn rate against mean predicted p per quantile bin.

    ``p`` is one probability vector or a mapping ``{label: p}`` (e.g. raw vs calibrated).
    """
    fig = Figure(figsize=_SIZE, layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfect")
    for label, probs in _named(p, "model").items():
        table = calibration_table(y_true, probs, n_bins=n_bins)
        ax.plot(table["mean_predicted"], table["observed_rate"], marker="o", label=label)
    ax.set_xlabel("mean predicted churn probability")
    ax.set_ylabel("observed churn rate")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(loc="upper left")
    return _save(fig, path)


def plot_gains(
    y_true: ArrayLike,
    score: ArrayLike | Mapping[str, ArrayLike],
    path: str | Path,
    *,
    title: str = "Cumulative gains",
) -> Path:
    """Share of churners captured against share of customers targeted, with the random line.

    ``score`` is one score vector or a mapping ``{label: score}``.
    """
    fig = Figure(figsize=_SIZE, layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="random")
    for label, s in _named(score, "model").items():
        x, g = gains_curve(y_true, s)
        ax.plot(x, g, label=label)
    ax.set_xlabel("share of customers targeted")
    ax.set_ylabel("share of churners captured")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.legend(loc="lower right")
    return _save(fig, path)


def plot_qini(
    curves: Mapping[str, Curve | tuple[ArrayLike, ArrayLike]],
    path: str | Path,
    *,
    random_line: bool = True,
    title: str = "Qini curve",
) -> Path:
    """Several Qini (or uplift) curves on one chart, e.g. ``{"model": ..., "truth": ...}``.

    Each curve is ``(fraction_targeted, value)``, as returned by ``qini_curve``. With
    ``random_line`` a dashed line joins (0, 0) to the end of the first curve: random
    targeting on the same data (all curves over the same rows share that end point).
    """
    if not curves:
        raise ValueError("nothing to plot")
    fig = Figure(figsize=_SIZE, layout="constrained")
    ax = fig.add_subplot()
    for label, (x, v) in curves.items():
        ax.plot(np.asarray(x, dtype=float), np.asarray(v, dtype=float), label=label)
    if random_line:
        x0, v0 = next(iter(curves.values()))
        end = (float(np.asarray(x0, dtype=float)[-1]), float(np.asarray(v0, dtype=float)[-1]))
        ax.plot([0, end[0]], [0, end[1]], linestyle="--", color="grey", label="random")
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_xlabel("share of customers targeted")
    ax.set_ylabel("churn reduction per customer (cumulative)")
    ax.set_title(title)
    ax.legend(loc="best")
    return _save(fig, path)


def plot_feature_importance(
    names: Sequence[str],
    values: ArrayLike,
    path: str | Path,
    top: int = 20,
    *,
    title: str = "Feature importance",
) -> Path:
    """Horizontal bars for the ``top`` features by absolute importance, largest at the top."""
    vals = np.asarray(values, dtype=float)
    if vals.ndim != 1 or vals.size != len(names):
        raise ValueError("names and values must have the same length")
    if vals.size == 0:
        raise ValueError("nothing to plot")
    if top < 1:
        raise ValueError("top must be >= 1")
    order = np.argsort(-np.abs(vals), kind="stable")[:top][::-1]
    fig = Figure(figsize=(6.0, 1.0 + 0.3 * order.size), layout="constrained")
    ax = fig.add_subplot()
    ax.barh([names[i] for i in order], vals[order], color="tab:blue")
    ax.set_xlabel("importance")
    ax.set_title(title)
    return _save(fig, path)


def plot_uplift_calibration(
    groups: pd.DataFrame,
    path: str | Path,
    *,
    title: str = "Uplift calibration",
) -> Path:
    """Observed against predicted churn reduction per group of the predicted uplift, with
    95 % error bars (``metrics.uplift_by_group``): on the diagonal, the campaign shows the
    differences between customers the model predicts."""
    if groups.empty:
        raise ValueError("nothing to plot")
    predicted = groups["mean_predicted"].to_numpy(dtype=float)
    observed = groups["observed"].to_numpy(dtype=float)
    error = Z95 * groups["se"].to_numpy(dtype=float)
    fig = Figure(figsize=_SIZE, layout="constrained")
    ax = fig.add_subplot()
    low = float(min(predicted.min(), (observed - error).min(), 0.0))
    high = float(max(predicted.max(), (observed + error).max(), 0.0))
    ax.plot([low, high], [low, high], linestyle="--", color="grey", linewidth=1, label="perfect")
    ax.axhline(0, color="black", linewidth=0.5)
    ax.errorbar(predicted, observed, yerr=error, marker="o", capsize=3, label="observed (95 %)")
    ax.set_xlabel("mean predicted churn reduction (group of the predicted uplift)")
    ax.set_ylabel("observed churn reduction (control − treated)")
    ax.set_title(title)
    ax.legend(loc="upper left")
    return _save(fig, path)
