"""Shifted-beta-geometric (sBG) model of contractual retention.

Fader, P. S. & Hardie, B. G. S. (2007), "How to Project Customer Retention",
*Journal of Interactive Marketing* 21(1), 76–90.

Every customer has a constant probability θ of cancelling at each renewal opportunity;
θ varies across customers as Beta(α, β). With ``T`` the period in which a customer
churns (t = 1, 2, …; period 0 is acquisition)::

    P(T = t) = B(α + 1, β + t − 1) / B(α, β)        churn in period t
    S(t)     = P(T > t) = B(α, β + t) / B(α, β)      still a customer after t periods
    r_t      = S(t) / S(t − 1) = (β + t − 1) / (α + β + t − 1)

Retention rates rise with tenure although no individual's θ changes: the customers most
likely to leave leave first.

Data conventions. A cohort is given as survivor counts at the start of periods 0..T (the
first value is the cohort size). Individual data are a tenure in whole periods and a flag
saying whether the customer is still active: a churner with tenure ``t`` churned in period
``t`` (``t ≥ 1``); an active customer with tenure ``t`` has survived ``t`` periods
(``t ≥ 0``). Both reduce to the same likelihood: churners in period t contribute
``log P(T = t)``, customers still active after t periods contribute ``log S(t)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import betaln, digamma

FloatArray = NDArray[np.float64]

# Search box for log α and log β. The upper end stands for "no heterogeneity left"
# (θ the same for everyone: a geometric lifetime), where the MLE runs off to infinity.
_LOG_BOUNDS = (np.log(1e-4), np.log(1e6))
_GRID = np.linspace(-4.0, 6.0, 21)

__all__ = ["SBGFit", "fit_sbg", "fit_sbg_from_durations"]


def _as_float_array(x: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


def _out(values: FloatArray, scalar: bool) -> float | FloatArray:
    return float(values) if scalar else values


@dataclass(frozen=True)
class SBGFit:
    """A fitted sBG model. All methods accept a scalar (returning a float) or an array."""

    alpha: float
    beta: float
    log_likelihood: float
    n_periods: int

    def _log_survival(self, t: FloatArray) -> FloatArray:
        result: FloatArray = betaln(self.alpha, self.beta + t) - betaln(self.alpha, self.beta)
        return result

    @overload
    def survival(self, t: float) -> float: ...
    @overload
    def survival(self, t: NDArray[Any] | Sequence[float]) -> FloatArray: ...
    def survival(self, t: float | NDArray[Any] | Sequence[float]) -> float | FloatArray:
        """S(t) = P(T > t): share of a cohort still a customer after ``t ≥ 0`` periods."""
        tt = _as_float_array(t, "t")
        if np.any(tt < 0):
            raise ValueError("t must be >= 0 for survival")
        return _out(np.exp(self._log_survival(tt)), tt.ndim == 0)

    @overload
    def churn_probability(self, t: float) -> float: ...
    @overload
    def churn_probability(self, t: NDArray[Any] | Sequence[float]) -> FloatArray: ...
    def churn_probability(self, t: float | NDArray[Any] | Sequence[float]) -> float | FloatArray:
        """P(T = t): probability that a new customer churns in period ``t ≥ 1``."""
        tt = _as_float_array(t, "t")
        if np.any(tt < 1):
            raise ValueError("t must be >= 1 for churn_probability")
        log_p = betaln(self.alpha + 1.0, self.beta + tt - 1.0) - betaln(self.alpha, self.beta)
        return _out(np.exp(log_p), tt.ndim == 0)

    @overload
    def retention_rate(self, t: float) -> float: ...
    @overload
    def retention_rate(self, t: NDArray[Any] | Sequence[float]) -> FloatArray: ...
    def retention_rate(self, t: float | NDArray[Any] | Sequence[float]) -> float | FloatArray:
        """r_t = S(t)/S(t−1) = (β+t−1)/(α+β+t−1): renewal rate in period ``t ≥ 1``."""
        tt = _as_float_array(t, "t")
        if np.any(tt < 1):
            raise ValueError("t must be >= 1 for retention_rate")
        r = (self.beta + tt - 1.0) / (self.alpha + self.beta + tt - 1.0)
        return _out(r, tt.ndim == 0)

    @overload
    def expected_lifetime_value(
        self,
        margin: float,
        discount_rate: float,
        horizon_periods: int,
        periods_already_survived: float = 0,
    ) -> float: ...
    @overload
    def expected_lifetime_value(
        self,
        margin: NDArray[Any] | Sequence[float],
        discount_rate: float,
        horizon_periods: int,
        periods_already_survived: float | NDArray[Any] | Sequence[float] = 0,
    ) -> FloatArray: ...
    @overload
    def expected_lifetime_value(
        self,
        margin: float,
        discount_rate: float,
        horizon_periods: int,
        periods_already_survived: NDArray[Any] | Sequence[float],
    ) -> FloatArray: ...
    def expected_lifetime_value(
        self,
        margin: float | NDArray[Any] | Sequence[float],
        discount_rate: float,
        horizon_periods: int,
        periods_already_survived: float | NDArray[Any] | Sequence[float] = 0,
    ) -> float | FloatArray:
        """Discounted expected residual value of a customer who has survived ``n`` periods.

        The customer earns ``margin`` at each future renewal it makes, discounted by the
        number of periods from now::

            value = margin · Σ_{k=1..H} S(n + k) / S(n) / (1 + d)^k

        with ``S(n + k)/S(n)`` the chance of still being a customer k periods from now given
        survival so far (Fader & Hardie's DERL idea, truncated at ``H = horizon_periods``).
        As H → ∞ this is ``DERL(d | α, β, n) / (1 + d)`` in the notation of Fader & Hardie
        (2010), whose first renewal is not discounted. ``margin`` and
        ``periods_already_survived`` broadcast against each other; the work is done once per
        distinct tenure, so a million customers with a few dozen tenures is cheap.
        """
        if not isinstance(horizon_periods, int | np.integer) or horizon_periods < 1:
            raise ValueError("horizon_periods must be a positive integer")
        if not np.isfinite(discount_rate) or discount_rate < 0:
            raise ValueError("discount_rate must be a finite number >= 0")
        m = _as_float_array(margin, "margin")
        n = _as_float_array(periods_already_survived, "periods_already_survived")
        if np.any(n < 0):
            raise ValueError("periods_already_survived must be >= 0")
        distinct, inverse = np.unique(n.ravel(), return_inverse=True)
        k = np.arange(1, horizon_periods + 1, dtype=np.float64)
        # log S(n + k) − log S(n) = betaln(α, β + n + k) − betaln(α, β + n)
        log_cond = betaln(self.alpha, self.beta + distinct[:, None] + k) - betaln(
            self.alpha, self.beta + distinct[:, None]
        )
        factor = np.exp(log_cond - k * np.log1p(discount_rate)).sum(axis=1)
        value = m * factor[inverse].reshape(n.shape)
        return _out(np.asarray(value, dtype=np.float64), value.ndim == 0)


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
