"""Fitting the shifted-beta-geometric (sBG) retention model by maximum likelihood.

The model and its evaluation (:class:`engine.scoring.sbg.SBGFit`) live in the engine, which
values customers with it; this module fits it from cohort counts, individual durations, or
one renewal of a book of customers with different tenures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import betaln, digamma

from engine.scoring.sbg import SBGFit
from engine.scoring.sbg import as_float_array as _as_float_array

FloatArray = NDArray[np.float64]

# Search box for log α and log β. The upper end stands for "no heterogeneity left"
# (θ the same for everyone: a geometric lifetime), where the MLE runs off to infinity.
_LOG_BOUNDS = (np.log(1e-4), np.log(1e6))
_GRID = np.linspace(-4.0, 6.0, 21)

__all__ = ["SBGFit", "fit_sbg", "fit_sbg_from_durations", "fit_sbg_from_renewals"]


# -- likelihood -------------------------------------------------------------------------


def _neg_log_likelihood(
    log_params: FloatArray, churned: FloatArray, censored: FloatArray
) -> tuple[float, FloatArray]:
    """−ℓ and its gradient in (log α, log β).

    ``churned[t]`` customers churned in period t (index 0 unused); ``censored[t]`` customers
    are known to have survived t periods and nothing more.
    """
    a, b = np.exp(log_params)
    t = np.arange(churned.size, dtype=np.float64)
    ch_t, ch_n = t[1:], churned[1:]
    ce_mask = censored > 0
    ce_t, ce_n = t[ce_mask], censored[ce_mask]
    base = betaln(a, b)
    ll = ch_n @ (betaln(a + 1.0, b + ch_t - 1.0) - base) + ce_n @ (betaln(a, b + ce_t) - base)
    # d/da betaln(a, b) = ψ(a) − ψ(a+b);  d/db betaln(a, b) = ψ(b) − ψ(a+b)
    d_base_a, d_base_b = digamma(a) - digamma(a + b), digamma(b) - digamma(a + b)
    s_ab = digamma(a + b + ch_t)  # a + 1 + b + t − 1
    g_a = ch_n @ (digamma(a + 1.0) - s_ab - d_base_a) + ce_n @ (
        digamma(a) - digamma(a + b + ce_t) - d_base_a
    )
    g_b = ch_n @ (digamma(b + ch_t - 1.0) - s_ab - d_base_b) + ce_n @ (
        digamma(b + ce_t) - digamma(a + b + ce_t) - d_base_b
    )
    grad = -np.array([g_a * a, g_b * b], dtype=np.float64)
    return -float(ll), grad


def _fit(churned: FloatArray, censored: FloatArray, n_periods: int) -> SBGFit:
    n_total = churned.sum() + censored.sum()
    if n_total <= 0:
        raise ValueError("no customers to fit")
    if churned.sum() == 0:
        raise ValueError("no churn observed: the sBG parameters are not identifiable")
    if censored[2:].sum() + churned[2:].sum() == 0:
        raise ValueError("no customer was observed beyond period 1: α and β cannot be separated")

    # Starting point: the best cell of a coarse grid, which avoids bad local behaviour
    # of the optimiser when it starts far away.
    grid = np.array([(x, y) for x in _GRID for y in _GRID])
    values = [_neg_log_likelihood(p, churned, censored)[0] for p in grid]
    start = grid[int(np.nanargmin(values))]

    result = minimize(
        _neg_log_likelihood,
        start,
        args=(churned, censored),
        jac=True,
        method="L-BFGS-B",
        bounds=[_LOG_BOUNDS, _LOG_BOUNDS],
        options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 1000},
    )
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise ValueError(f"sBG fit failed: {result.message}")
    grad_norm = float(np.max(np.abs(result.jac)))
    at_bound = bool(np.isclose(result.x[:, None], np.array(_LOG_BOUNDS), rtol=0, atol=1e-6).any())
    if not result.success and not at_bound and grad_norm > 1e-4 * max(1.0, n_total):
        raise ValueError(f"sBG fit did not converge: {result.message}")
    alpha, beta = (float(v) for v in np.exp(result.x))
    return SBGFit(alpha=alpha, beta=beta, log_likelihood=-float(result.fun), n_periods=n_periods)


def fit_sbg(survivors: Sequence[int] | NDArray[Any]) -> SBGFit:
    """Maximum-likelihood sBG fit to one cohort's survivor counts at the start of periods 0..T.

    ``survivors[0]`` is the cohort size. The ``survivors[t-1] − survivors[t]`` customers
    lost in period t contribute ``log P(T = t)``; the ``survivors[T]`` still active
    contribute ``log S(T)``. At least two periods (three counts) are needed to separate
    α from β.

    If churn looks the same for everyone (constant retention), the likelihood keeps
    rising as α, β → ∞ with α/(α+β) fixed; the fit then stops at very large α and β
    (at most 1e6), which is numerically that homogeneous geometric model.
    """
    s = _as_float_array(survivors, "survivors")
    if s.ndim != 1 or s.size < 3:
        raise ValueError("survivors needs counts for at least periods 0, 1 and 2")
    if s[0] <= 0:
        raise ValueError("the cohort size survivors[0] must be positive")
    if np.any(s < 0):
        raise ValueError("survivor counts must be >= 0")
    if np.any(np.diff(s) > 0):
        raise ValueError("survivor counts must not increase from one period to the next")
    churned = np.concatenate([[0.0], s[:-1] - s[1:]])
    censored = np.zeros_like(s)
    censored[-1] = s[-1]
    return _fit(churned, censored, n_periods=s.size - 1)


def fit_sbg_from_durations(durations: ArrayLike, censored: ArrayLike) -> SBGFit:
    """Maximum-likelihood sBG fit to individual customers.

    ``durations``: tenure in whole periods. ``censored``: True if the customer is still
    active (survived ``duration`` periods, ``duration ≥ 0``); False if they churned in
    period ``duration`` (``duration ≥ 1``). Customers may have joined at different times:
    each contributes by their own tenure. Counts are aggregated with ``np.bincount`` so a
    million rows cost a few milliseconds.
    """
    d_float = _as_float_array(durations, "durations")
    c = np.asarray(censored)
    if d_float.ndim != 1 or c.shape != d_float.shape:
        raise ValueError("durations and censored must be 1-D arrays of the same length")
    if d_float.size == 0:
        raise ValueError("no customers to fit")
    if c.dtype != np.bool_:
        if not np.all(np.isin(c, (0, 1))):
            raise ValueError("censored must be boolean (or 0/1)")
        c = c.astype(bool)
    if np.any(d_float != np.round(d_float)):
        raise ValueError("durations must be whole numbers of periods")
    d = d_float.astype(np.int64)
    if np.any(d < 0):
        raise ValueError("durations must be >= 0")
    if np.any(d[~c] < 1):
        raise ValueError("a customer who churned must have a duration >= 1 (churn in period t)")
    length = int(d.max()) + 1
    churned_counts = np.bincount(d[~c], minlength=length).astype(np.float64)
    censored_counts = np.bincount(d[c], minlength=length).astype(np.float64)
    return _fit(churned_counts, censored_counts, n_periods=length - 1)


def fit_sbg_from_renewals(tenure: ArrayLike, churned: ArrayLike) -> SBGFit:
    """Maximum-likelihood sBG fit to one renewal of a book of customers of mixed tenure.

    A customer with ``tenure`` n has survived n periods and now faces renewal n + 1: they
    churn with probability ``1 − r_{n+1} = α / (α + β + n)``. Conditioning on survival to
    n (left truncation) matters: a book at renewal holds only customers who stayed so far,
    so treating their tenure as a plain duration would overstate retention.
    """
    n_float = _as_float_array(tenure, "tenure")
    c = _as_float_array(churned, "churned")
    if n_float.ndim != 1 or c.shape != n_float.shape or n_float.size == 0:
        raise ValueError("tenure and churned must be non-empty 1-D arrays of the same length")
    if np.any(n_float < 0) or np.any(n_float != np.round(n_float)):
        raise ValueError("tenure must be whole numbers of periods >= 0")
    if not np.all(np.isin(c, (0.0, 1.0))):
        raise ValueError("churned must be 0/1")
    n = n_float.astype(np.int64)
    churn_counts = np.bincount(n, weights=c).astype(np.float64)
    stay_counts = np.bincount(n).astype(np.float64) - churn_counts
    if churn_counts.sum() == 0 or stay_counts.sum() == 0:
        raise ValueError("need both churners and renewals to fit")
    periods = np.arange(churn_counts.size, dtype=np.float64)

    def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
        a, b = np.exp(log_params)
        total = a + b + periods
        ll = churn_counts @ (np.log(a) - np.log(total)) + stay_counts @ (
            np.log(b + periods) - np.log(total)
        )
        g_a = churn_counts @ (1.0 / a - 1.0 / total) - stay_counts @ (1.0 / total)
        g_b = -churn_counts @ (1.0 / total) + stay_counts @ (1.0 / (b + periods) - 1.0 / total)
        return -float(ll), -np.array([g_a * a, g_b * b], dtype=np.float64)

    grid = np.array([(x, y) for x in _GRID for y in _GRID])
    start = grid[int(np.nanargmin([objective(p)[0] for p in grid]))]
    result = minimize(
        objective, start, jac=True, method="L-BFGS-B", bounds=[_LOG_BOUNDS, _LOG_BOUNDS]
    )
    if not np.all(np.isfinite(result.x)):
        raise ValueError(f"sBG fit failed: {result.message}")
    alpha, beta = (float(v) for v in np.exp(result.x))
    return SBGFit(alpha=alpha, beta=beta, log_likelihood=-float(result.fun), n_periods=len(periods))
