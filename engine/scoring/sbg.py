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

This module evaluates a fitted model (the engine values customers with it at request time);
fitting lives in ``training.sbg``.

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
from scipy.special import betaln

FloatArray = NDArray[np.float64]

__all__ = ["SBGFit", "as_float_array"]


def as_float_array(x: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


def _periods(t: ArrayLike, least: int, method: str) -> FloatArray:
    tt = as_float_array(t, "t")
    if np.any(tt < least):
        raise ValueError(f"t must be >= {least} for {method}")
    return tt


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
        tt = _periods(t, 0, "survival")
        return _out(np.exp(self._log_survival(tt)), tt.ndim == 0)

    @overload
    def churn_probability(self, t: float) -> float: ...
    @overload
    def churn_probability(self, t: NDArray[Any] | Sequence[float]) -> FloatArray: ...
    def churn_probability(self, t: float | NDArray[Any] | Sequence[float]) -> float | FloatArray:
        """P(T = t): probability that a new customer churns in period ``t ≥ 1``."""
        tt = _periods(t, 1, "churn_probability")
        log_p = betaln(self.alpha + 1.0, self.beta + tt - 1.0) - betaln(self.alpha, self.beta)
        return _out(np.exp(log_p), tt.ndim == 0)

    @overload
    def retention_rate(self, t: float) -> float: ...
    @overload
    def retention_rate(self, t: NDArray[Any] | Sequence[float]) -> FloatArray: ...
    def retention_rate(self, t: float | NDArray[Any] | Sequence[float]) -> float | FloatArray:
        """r_t = S(t)/S(t−1) = (β+t−1)/(α+β+t−1): renewal rate in period ``t ≥ 1``."""
        tt = _periods(t, 1, "retention_rate")
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
        m = as_float_array(margin, "margin")
        n = as_float_array(periods_already_survived, "periods_already_survived")
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
