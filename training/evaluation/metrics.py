"""Metrics for churn classifiers and uplift (treatment-effect) rankings.

Outcome ``y`` is churn (1 = left). Churn scores rank likely churners first. Uplift scores
are the predicted reduction in churn probability from the action (p_control − p_treated):
larger means "treat first".

Ranking curves sort once (descending score) and are evaluated only where the score changes,
i.e. at the end of each group of tied scores, with straight lines in between — as
``sklearn.metrics.roc_curve`` does. Results therefore never depend on the order of tied
rows, and a score with ties behaves like the average over random orders of those rows
(exactly so for gains; to first order for the Qini and uplift curves, whose treated/control
ratio is not linear).

Uplift curves (all on the x-axis φ = share of customers targeted, 0..1; ``N`` customers,
``N_t``/``N_c`` treated/control in total; ``n_t(k), n_c(k)`` treated/control and
``c_t(k), c_c(k)`` churners among them, in the top ``k`` by score):

* **Qini curve** (Radcliffe 2007): ``Q(k) = R_t(k) − R_c(k)·n_t(k)/n_c(k)`` with ``R`` the
  number *retained* (1 − churn). Since ``R = n − c`` this equals
  ``c_c(k)·n_t(k)/n_c(k) − c_t(k)``: churners prevented among the treated in the top k. We
  report ``Q(k) / N_t``, which under random assignment estimates ``(1/N)·Σ_{top k} τ_i``
  (τ = churn reduction), so the curve ends at the average treatment effect (ATE) and does
  not depend on N or the treated share. ``Q`` is 0 while ``n_c(k) = 0``.
* **Qini coefficient**: the signed area between that curve and the random-targeting line
  from (0, 0) to (1, ATE), ``∫₀¹ (q(φ) − φ·ATE) dφ``. 0 for a random ranking, positive when
  better than random, negative when worse. No further normalisation: to judge a learned
  ranking, divide its coefficient by the coefficient of the *true* per-customer effect
  used as the score on the same data (the oracle ranking).
* **Effect Qini curve and coefficient** (for synthetic data, whose per-customer effect
  ``τ_i`` is known): the curve the Qini curve estimates, ``(1/N)·Σ_{top k} τ_i``, computed
  from the known effects instead of from observed outcomes, and its coefficient
  ``∫₀¹ (e(φ) − φ·e(1)) dφ`` in the same units as the Qini coefficient. It judges a ranking
  without the outcome noise of a few thousand treated customers (which can push the
  observed Qini of even the true effect below zero); it needs no treatment column.
* **Uplift curve** (as in Rzepakowski & Jaroszewicz 2012): ``u(k) = (k/N)·(c_c(k)/n_c(k) −
  c_t(k)/n_t(k))``: the churn reduction per population customer if the top k were treated;
  0 while either group is empty. **AUUC** is the area under it, ``∫₀¹ u(φ) dφ``; a random
  ranking scores about ATE/2.
* **Uplift calibration** (Chernozhukov et al.'s best linear predictor and sorted group
  effects): does the campaign confirm the predicted differences between customers, and at
  the predicted size? The uplift counterpart of a reliability diagram
  (:func:`uplift_calibration`, :func:`uplift_by_group`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

FloatArray = NDArray[np.float64]
Z95 = 1.959964
"""Two-sided 95 % quantile of the normal distribution (intervals from standard errors)."""

__all__ = [
    "Z95",
    "Curve",
    "UpliftCalibration",
    "auuc",
    "calibration_table",
    "classification_metrics",
    "effect_qini_coefficient",
    "effect_qini_curve",
    "gains_curve",
    "qini_coefficient",
    "qini_curve",
    "qini_interval",
    "uplift_by_group",
    "uplift_calibration",
    "uplift_curve",
]


class Curve(NamedTuple):
    """A ranking curve: ``value`` after targeting the top ``fraction_targeted`` customers."""

    fraction_targeted: FloatArray
    value: FloatArray


class UpliftCalibration(NamedTuple):
    """The best linear predictor of an action's effect given its predicted uplift.

    ``ate``: average churn reduction in the campaign; ``slope``: how much of the predicted
    differences between customers the campaign shows (1 = calibrated spread, > 1 = the
    model's spread too narrow, 0 = no detectable difference); each with its standard error.
    """

    ate: float
    ate_se: float
    slope: float
    slope_se: float


# -- input checks ------------------------------------------------------------------------


def _vector(x: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _binary(x: ArrayLike, name: str) -> FloatArray:
    arr = _vector(x, name)
    if not np.all((arr == 0) | (arr == 1)):
        raise ValueError(f"{name} must contain only 0 and 1")
    return arr


def _same_length(*arrays: FloatArray) -> None:
    if len({a.size for a in arrays}) > 1:
        raise ValueError(f"inputs have different lengths: {[a.size for a in arrays]}")


def _probability(x: ArrayLike, name: str) -> FloatArray:
    arr = _vector(x, name)
    if np.any((arr < 0) | (arr > 1)):
        raise ValueError(f"{name} must lie in [0, 1]")
    return arr


# -- ranking core ------------------------------------------------------------------------


def _cumulative_at_ties(score: FloatArray, *columns: FloatArray) -> tuple[FloatArray, ...]:
    """Sort once by descending score; return k and the cumulative sum of each column at the
    end of every group of tied scores, each with a leading 0."""
    order = np.argsort(-score, kind="stable")
    s = score[order]
    ends = np.append(np.flatnonzero(s[1:] != s[:-1]), s.size - 1)
    k = np.concatenate([[0.0], ends + 1.0])
    sums = [np.concatenate([[0.0], np.cumsum(col[order])[ends]]) for col in columns]
    return (k, *sums)


def _quantile_bins(values: FloatArray, n_bins: int) -> tuple[NDArray[np.intp], int]:
    """Each value's quantile bin (0 = lowest) and the number of bins. Duplicate edges (heavy
    ties) are merged, so tied values always share a bin; a value on an inner edge goes to
    the upper bin."""
    if n_bins < 1:
        raise ValueError("n_bins must be >= 1")
    edges = np.unique(np.quantile(values, np.linspace(0.0, 1.0, n_bins + 1)))
    bins = np.searchsorted(edges[1:-1], values, side="right")
    return bins, (edges.size - 1 if edges.size > 1 else 1)


def _uplift_inputs(
    y: ArrayLike, treated: ArrayLike, score: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    yy, tt, ss = _binary(y, "y"), _binary(treated, "treated"), _vector(score, "score")
    _same_length(yy, tt, ss)
    if tt.sum() == 0 or tt.sum() == tt.size:
        raise ValueError("uplift metrics need both treated and control customers")
    return yy, tt, ss


# -- churn classifiers -------------------------------------------------------------------


def gains_curve(y_true: ArrayLike, score: ArrayLike) -> Curve:
    """Cumulative gains: share of all churners found among the top share of customers.

    Starts at (0, 0) and ends at (1, 1); a random ranking is the diagonal.
    """
    y, s = _binary(y_true, "y_true"), _vector(score, "score")
    _same_length(y, s)
    if y.sum() == 0:
        raise ValueError("gains need at least one churner in y_true")
    k, churners = _cumulative_at_ties(s, y)
    return Curve(k / y.size, churners / y.sum())


def _lift_at(curve: Curve, share: float) -> float:
    return float(np.interp(share, curve.fraction_targeted, curve.value)) / share


def classification_metrics(y_true: ArrayLike, p: ArrayLike) -> dict[str, float]:
    """Standard metrics of a churn probability ``p`` against outcomes ``y_true`` (1 = churn).

    ``roc_auc``, ``pr_auc`` (average precision), ``brier``, ``log_loss`` (natural log; sklearn
    clips p away from 0 and 1), ``top_decile_lift`` (churn rate in the top 10% by p over the
    base rate, read off the gains curve so ties at the cut are shared pro rata) and
    ``base_rate``. Both classes must be present.
    """
    y, pp = _binary(y_true, "y_true"), _probability(p, "p")
    _same_length(y, pp)
    if y.min() == y.max():
        raise ValueError("y_true must contain both churners and non-churners")
    return {
        "roc_auc": float(roc_auc_score(y, pp)),
        "pr_auc": float(average_precision_score(y, pp)),
        "brier": float(brier_score_loss(y, pp)),
        "log_loss": float(log_loss(y, pp, labels=[0, 1])),
        "top_decile_lift": _lift_at(gains_curve(y, pp), 0.1),
        "base_rate": float(y.mean()),
    }


def calibration_table(y_true: ArrayLike, p: ArrayLike, n_bins: int = 10) -> pd.DataFrame:
    """Reliability table over quantile bins of ``p``.

    Bin edges are the quantiles of ``p``; duplicate edges (heavy ties) are merged, so fewer
    than ``n_bins`` rows can come back, and tied predictions always share a bin. A value on
    an inner edge goes to the upper bin. Columns: ``p_min``, ``p_max``, ``mean_predicted``,
    ``observed_rate``, ``count``; one row per non-empty bin, in increasing order of ``p``.
    """
    y, pp = _binary(y_true, "y_true"), _probability(p, "p")
    _same_length(y, pp)
    bins, m = _quantile_bins(pp, n_bins)
    count = np.bincount(bins, minlength=m).astype(np.float64)
    keep = count > 0
    p_min = np.full(m, np.inf)
    p_max = np.full(m, -np.inf)
    np.minimum.at(p_min, bins, pp)
    np.maximum.at(p_max, bins, pp)
    return pd.DataFrame(
        {
            "p_min": p_min[keep],
            "p_max": p_max[keep],
            "mean_predicted": np.bincount(bins, pp, minlength=m)[keep] / count[keep],
            "observed_rate": np.bincount(bins, y, minlength=m)[keep] / count[keep],
            "count": count[keep].astype(np.int64),
        }
    )


# -- uplift ------------------------------------------------------------------------------


def qini_curve(y: ArrayLike, treated: ArrayLike, score: ArrayLike) -> Curve:
    """Radcliffe's Qini curve, per treated customer: ``Q(k)/N_t`` (see the module docstring).

    ``y``: churn (1 = left); ``treated``: 1 if the customer got the action in a randomised
    campaign; ``score``: predicted churn reduction (or the true effect, for the oracle).
    """
    yy, tt, ss = _uplift_inputs(y, treated, score)
    k, n_t, c_t, c_c = _cumulative_at_ties(ss, tt, yy * tt, yy * (1.0 - tt))
    n_c = k - n_t
    ratio = np.divide(n_t, n_c, out=np.zeros_like(n_t), where=n_c > 0)
    q = np.where(n_c > 0, c_c * ratio - c_t, 0.0)
    return Curve(k / yy.size, q / tt.sum())


def qini_coefficient(y: ArrayLike, treated: ArrayLike, score: ArrayLike) -> float:
    """Signed area between the Qini curve and the random-targeting line (module docstring).

    Compare a learned ranking with the oracle on the same held-out rows as
    ``qini_coefficient(y, t, predicted) / qini_coefficient(y, t, true_effect)``.
    Invariant to strictly increasing transforms of ``score``.
    """
    x, q = qini_curve(y, treated, score)
    return float(np.trapezoid(q - x * q[-1], x))


def qini_interval(
    y: ArrayLike,
    treated: ArrayLike,
    score: ArrayLike,
    *,
    resamples: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Bootstrap percentile interval of :func:`qini_coefficient`.

    A held-out campaign has a few thousand customers per arm, and the Qini of a ranking on
    them is noisy: the interval says whether the ranking is distinguishable from random
    targeting (the interval above 0) with the data there is. Customers are resampled with
    replacement *within* each arm, so every resample keeps the campaign's arm sizes.
    Deterministic for a given ``seed``.
    """
    yy, tt, ss = _uplift_inputs(y, treated, score)
    rng = np.random.default_rng(seed)
    arms = [np.flatnonzero(tt == 1.0), np.flatnonzero(tt == 0.0)]
    values = np.empty(resamples)
    for i in range(resamples):
        rows = np.concatenate([rng.choice(arm, size=arm.size, replace=True) for arm in arms])
        values[i] = qini_coefficient(yy[rows], tt[rows], ss[rows])
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def effect_qini_curve(effect: ArrayLike, score: ArrayLike) -> Curve:
    """Cumulative *known* effect of the top customers by ``score``: ``(1/N)·Σ_{top k} τ_i``.

    ``effect``: each customer's true churn reduction (synthetic data only); ``score``: the
    ranking to judge. Ends at the average effect; ties are handled as in the Qini curve.
    """
    tau, ss = _vector(effect, "effect"), _vector(score, "score")
    _same_length(tau, ss)
    k, cumulative = _cumulative_at_ties(ss, tau)
    return Curve(k / tau.size, cumulative / tau.size)


def effect_qini_coefficient(effect: ArrayLike, score: ArrayLike) -> float:
    """Signed area between :func:`effect_qini_curve` and the random-targeting line.

    Divide by ``effect_qini_coefficient(effect, effect)`` (the oracle ranking) for the
    noise-free counterpart of the Qini ratio of a learned ranking.
    """
    x, e = effect_qini_curve(effect, score)
    return float(np.trapezoid(e - x * e[-1], x))


def uplift_curve(y: ArrayLike, treated: ArrayLike, score: ArrayLike) -> Curve:
    """Uplift curve ``(k/N)·(c_c(k)/n_c(k) − c_t(k)/n_t(k))`` (module docstring)."""
    yy, tt, ss = _uplift_inputs(y, treated, score)
    k, n_t, c_t, c_c = _cumulative_at_ties(ss, tt, yy * tt, yy * (1.0 - tt))
    n_c = k - n_t
    both = (n_t > 0) & (n_c > 0)
    rate_c = np.divide(c_c, n_c, out=np.zeros_like(c_c), where=both)
    rate_t = np.divide(c_t, n_t, out=np.zeros_like(c_t), where=both)
    x = k / yy.size
    return Curve(x, x * (rate_c - rate_t))


def auuc(y: ArrayLike, treated: ArrayLike, score: ArrayLike) -> float:
    """Area under the uplift curve, in churn reduction per customer; random ≈ ATE/2."""
    x, u = uplift_curve(y, treated, score)
    return float(np.trapezoid(u, x))


def uplift_calibration(
    y: ArrayLike, treated: ArrayLike, score: ArrayLike, baseline: ArrayLike | None = None
) -> UpliftCalibration:
    """Best linear predictor (BLP) of the effect given the predicted uplift ``score``.

    Chernozhukov, Demirer, Duflo & Fernández-Val, "Generic Machine Learning Inference on
    Heterogeneous Treatment Effects in Randomized Experiments" (2018/2023), for a
    randomised campaign with a constant treated share ``p``: least squares of

        y = α₀ + α₁·baseline + β₁·(D − p) + β₂·(D − p)·(S − S̄) + ε

    with heteroscedasticity-robust (HC1) standard errors. ``ate`` = −β₁ and ``slope`` =
    −β₂ (churn *reduction*, the sign of ``score``). ``baseline`` (e.g. the churn model's
    no-action probability) only reduces the variance; the estimates stay unbiased without
    it. The score must come from a model that did not see these customers' outcomes.

    Why next to the Qini: the slope says whether the held-out campaign confirms that the
    model's ranking means something (slope / SE well above 0: the "enough data" test of an
    action's ranking), and whether the predicted spread between customers is right, which
    is what the decision engine spends money on.
    """
    yy, tt, ss = _uplift_inputs(y, treated, score)
    columns = [np.ones_like(yy)]
    if baseline is not None:
        base = _vector(baseline, "baseline")
        _same_length(yy, base)
        columns.append(base)
    share = tt.mean()
    centred = ss - ss.mean()
    columns += [tt - share, (tt - share) * centred]
    x = np.column_stack(columns)
    xtx_inv = np.linalg.pinv(x.T @ x)
    beta = xtx_inv @ (x.T @ yy)
    resid = yy - x @ beta
    meat = (x * resid[:, None]).T @ (x * resid[:, None])
    dof = max(yy.size - x.shape[1], 1)
    se = np.sqrt(np.diag(xtx_inv @ meat @ xtx_inv) * yy.size / dof)
    return UpliftCalibration(
        ate=float(-beta[-2]), ate_se=float(se[-2]), slope=float(-beta[-1]), slope_se=float(se[-1])
    )


def uplift_by_group(
    y: ArrayLike, treated: ArrayLike, score: ArrayLike, n_groups: int = 5
) -> pd.DataFrame:
    """Observed effect per quantile group of the predicted uplift (sorted-group average
    treatment effects, "GATES" in Chernozhukov et al.): the uplift analogue of a reliability
    table.

    Groups are quantiles of ``score`` as in :func:`calibration_table` (ties share a group).
    Columns: ``mean_predicted``, ``observed`` (control churn rate − treated churn rate),
    ``se`` (its standard error), ``treated``, ``control``; one row per group that has both
    treated and control customers, in increasing order of ``score``.
    """
    yy, tt, ss = _uplift_inputs(y, treated, score)
    bins, m = _quantile_bins(ss, n_groups)
    n = np.bincount(bins, minlength=m).astype(np.float64)
    n_t = np.bincount(bins, tt, minlength=m)
    n_c = n - n_t
    keep = (n_t > 0) & (n_c > 0)
    n, n_t, n_c = n[keep], n_t[keep], n_c[keep]
    rate_t = np.bincount(bins, yy * tt, minlength=m)[keep] / n_t
    rate_c = np.bincount(bins, yy * (1.0 - tt), minlength=m)[keep] / n_c
    return pd.DataFrame(
        {
            "mean_predicted": np.bincount(bins, ss, minlength=m)[keep] / n,
            "observed": rate_c - rate_t,
            "se": np.sqrt(rate_t * (1.0 - rate_t) / n_t + rate_c * (1.0 - rate_c) / n_c),
            "treated": n_t.astype(np.int64),
            "control": n_c.astype(np.int64),
        }
    )
