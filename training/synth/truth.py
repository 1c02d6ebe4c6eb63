"""The generator's true churn function: the ground truth policies are scored against.

A customer's churn at renewal depends on what we observe about them, on the premium they
are offered, on the retention action (if any), and on a latent loyalty factor ``L`` that is
not a column of the book. ``L`` also shapes two observed columns (``complaints_12m`` and
``satisfaction``), so the book carries partial, noisy evidence about it.

The ``truth_p_churn__*`` columns and :func:`true_churn_probability` give the probability of
churn *given everything recorded in the book*: ``L`` is integrated out over its posterior
given the observed complaints and satisfaction (Gauss-Hermite quadrature, exact up to
quadrature error). That is the best any model can do from the book's columns, and it is the
right quantity to value a policy with: a policy can only act on what it observes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import expit, ndtr

FloatArray = npt.NDArray[np.float64]

ACTIONS: Final[tuple[str, ...]] = (
    "loyalty_discount_5",
    "loyalty_discount_10",
    "premium_freeze",
    "bundle_discount",
    "senior_agent_callback",
    "payment_plan",
)
NO_ACTION: Final = "none"

LOYALTY_SD: Final = 1.1
"""Standard deviation of the latent loyalty factor ``L ~ N(0, LOYALTY_SD²)``."""

# How L shows through the observed columns (the likelihoods below must match the sampler).
COMPLAINTS_INTERCEPT: Final = -1.9
COMPLAINTS_PER_LOYALTY: Final = -0.6
COMPLAINTS_PER_CLAIM: Final = 0.45
SATISFACTION_INTERCEPT: Final = 6.6
SATISFACTION_PER_LOYALTY: Final = 1.3
SATISFACTION_PER_COMPLAINT: Final = -0.7

_QUADRATURE_NODES: Final = 48
_CHUNK_ROWS: Final = 100_000

_CHANNEL_ELASTICITY: Final = {
    "aggregator": 1.6,
    "direct_web": 1.25,
    "broker": 0.9,
    "agent": 0.8,
    "bank_partner": 0.6,
}
_SEGMENT_ELASTICITY: Final = {"mass": 1.0, "vip": 0.75, "affiliated": 0.8}
_SEGMENT_CHURN: Final = {"mass": 0.0, "vip": -0.35, "affiliated": -0.55}
_DISCOUNTS: Final = {"loyalty_discount_5": 0.05, "loyalty_discount_10": 0.10}


def complaints_rate(loyalty: FloatArray, claims_count: FloatArray) -> FloatArray:
    """Poisson rate of complaints in 12 months."""
    return np.asarray(
        np.exp(
            COMPLAINTS_INTERCEPT
            + COMPLAINTS_PER_LOYALTY * loyalty
            + COMPLAINTS_PER_CLAIM * np.minimum(claims_count, 3)
        ),
        dtype=np.float64,
    )


def satisfaction_mean(loyalty: FloatArray, complaints: FloatArray) -> FloatArray:
    """Mean of the latent satisfaction score; the survey reports it rounded to 1..10."""
    return np.asarray(
        SATISFACTION_INTERCEPT
        + SATISFACTION_PER_LOYALTY * loyalty
        + SATISFACTION_PER_COMPLAINT * complaints,
        dtype=np.float64,
    )


@dataclass(frozen=True)
class _Observed:
    """The columns of the book the churn function reads, as float arrays."""

    segment: npt.NDArray[np.object_]
    channel: npt.NDArray[np.object_]
    age: FloatArray
    tenure: FloatArray
    n_products: FloatArray
    has_motor: FloatArray
    annual_premium: FloatArray
    new_business_premium: FloatArray
    claims: FloatArray
    years_loss_free: FloatArray
    complaints: FloatArray
    service_calls: FloatArray
    late_payments: FloatArray
    satisfaction: FloatArray

    @classmethod
    def from_frame(cls, book: pd.DataFrame) -> _Observed:
        def num(name: str) -> FloatArray:
            return book[name].to_numpy(dtype=np.float64)

        return cls(
            segment=book["segment"].astype(str).to_numpy(dtype=object),
            channel=book["acquisition_channel"].astype(str).to_numpy(dtype=object),
            age=num("age"),
            tenure=num("tenure_years"),
            n_products=num("n_products"),
            has_motor=num("has_motor"),
            annual_premium=num("annual_premium"),
            new_business_premium=num("new_business_premium"),
            claims=num("claims_count_3y"),
            years_loss_free=num("years_loss_free"),
            complaints=num("complaints_12m"),
            service_calls=num("service_calls_12m"),
            late_payments=num("late_payments_12m"),
            satisfaction=num("satisfaction"),
        )

    def take(self, rows: slice) -> _Observed:
        return _Observed(**{name: value[rows] for name, value in vars(self).items()})


def _lookup(values: npt.NDArray[np.object_], table: dict[str, float]) -> FloatArray:
    out = np.zeros(len(values), dtype=np.float64)
    for key, factor in table.items():
        out[values == key] = factor
    return out


def _price_response(change: FloatArray) -> FloatArray:
    """Churn logit per unit elasticity for a relative premium change: steeper past +8 %."""
    rise = 1.8 * change + 5.0 * np.maximum(change - 0.08, 0.0)
    return np.where(change > 0, rise, 1.2 * change)


def _event_probability(obs: _Observed, loyalty: FloatArray) -> FloatArray:
    """Leaving for reasons no offer touches, per row (axis 0) and loyalty value (axis 1).

    Moving away, selling the car or death (young and old customers), and the customers who
    have already decided to leave (the least loyal): the "lost causes".
    """
    life_events = 0.02 + 0.10 * (obs.age < 26) + 0.06 * (obs.age >= 80)
    decided = 0.6 * expit(-3.0 * (loyalty + 2.0))
    return np.asarray(
        life_events[:, None] + (1.0 - life_events[:, None]) * decided, dtype=np.float64
    )


def _churn_logit(
    obs: _Observed, loyalty: FloatArray, premium: FloatArray, action: str
) -> FloatArray:
    """Churn logit for each row (axis 0) at each loyalty value (axis 1).

    ``loyalty`` has shape ``(1, k)`` (the same k values for every row, for quadrature) or
    ``(n, 1)`` (one known value per row, for drawing outcomes).
    """
    effective = premium.copy()
    if action in _DISCOUNTS:
        effective = premium * (1.0 - _DISCOUNTS[action])
    elif action == "premium_freeze":
        effective = np.minimum(premium, obs.annual_premium)

    base = (
        -2.6
        - 0.45 * np.log1p(obs.tenure)
        + 0.5 * (obs.age < 30)
        + 0.35 * ((obs.age - 45.0) / 20.0) ** 2
        + _lookup(obs.segment, _SEGMENT_CHURN)
        - 0.4 * (obs.n_products - 1)
        - 0.06 * np.minimum(obs.years_loss_free, 10)
        + 0.1 * obs.claims
        + 0.6 * ((obs.claims > 0) & (obs.complaints > 0))
        + 0.55 * np.log1p(obs.complaints)
        + 0.08 * np.minimum(obs.service_calls, 6)
        + 0.25 * np.minimum(obs.late_payments, 3)
    )
    elasticity = (
        _lookup(obs.channel, _CHANNEL_ELASTICITY)
        * _lookup(obs.segment, _SEGMENT_ELASTICITY)
        * np.where(obs.age < 30, 1.4, np.where(obs.age < 60, 1.0, 0.75))
        * np.where(obs.years_loss_free >= 5, 1.15, 1.0)
    )
    price = _price_response(effective / obs.annual_premium - 1.0) + 0.8 * np.maximum(
        effective / obs.new_business_premium - 1.0, 0.0
    )
    # Loyal customers are less price-sensitive as well as less likely to leave.
    logit = base[:, None] - 1.0 * loyalty + (elasticity * price)[:, None] * np.exp(-0.3 * loyalty)
    if action == NO_ACTION:
        return np.asarray(logit, dtype=np.float64)

    # Contact itself is a treatment: dormant, auto-renewing customers are reminded to shop
    # around ("sleeping dogs"), aggregator shoppers even more so.
    dormant = (obs.tenure >= 4) & (obs.service_calls == 0) & (obs.complaints == 0)
    contact = 0.7 * dormant + 0.15 * (obs.channel == "aggregator")
    if action in _DISCOUNTS or action == "premium_freeze":
        specific = np.full(len(base), -0.1)
    elif action == "bundle_discount":
        single_motor = (
            (obs.n_products == 1) & (obs.has_motor == 1) & (obs.age >= 25) & (obs.age <= 65)
        )
        specific = np.where(single_motor, -0.7, -0.15)
    elif action == "senior_agent_callback":
        contact = 1.3 * contact
        specific = (
            -0.45 * np.minimum(obs.complaints, 3)
            - 0.5 * ((obs.claims > 0) & (obs.complaints > 0))
            + 0.1 * (obs.complaints == 0)
        )
    elif action == "payment_plan":
        specific = np.where(
            obs.late_payments >= 1, -0.3 - 0.3 * np.minimum(obs.late_payments, 3), 0.0
        )
    else:
        raise ValueError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
    return np.asarray(logit + (contact + specific)[:, None], dtype=np.float64)


def churn_probability_given_loyalty(
    book: pd.DataFrame, loyalty: FloatArray, premium: FloatArray, action: str
) -> FloatArray:
    """Per-customer churn probability at a *known* loyalty value (used to draw outcomes)."""
    obs = _Observed.from_frame(book)
    per_row = np.asarray(loyalty, dtype=np.float64)[:, None]
    return _churn_given(obs, per_row, premium, action)[:, 0]


def _churn_given(
    obs: _Observed, loyalty: FloatArray, premium: FloatArray, action: str
) -> FloatArray:
    event = _event_probability(obs, loyalty)
    return np.asarray(
        event + (1.0 - event) * expit(_churn_logit(obs, loyalty, premium, action)),
        dtype=np.float64,
    )


def _posterior_weights(obs: _Observed, nodes: FloatArray, prior: FloatArray) -> FloatArray:
    """Posterior weights of loyalty nodes given observed complaints and satisfaction."""
    rate = complaints_rate(nodes[None, :], obs.claims[:, None])
    log_lik = obs.complaints[:, None] * np.log(rate) - rate
    mean = satisfaction_mean(nodes[None, :], obs.complaints[:, None])
    upper = np.where(obs.satisfaction >= 10, np.inf, obs.satisfaction + 0.5)[:, None]
    lower = np.where(obs.satisfaction <= 1, -np.inf, obs.satisfaction - 0.5)[:, None]
    lik_sat = ndtr(upper - mean) - ndtr(lower - mean)
    log_w = log_lik + np.log(np.maximum(lik_sat, 1e-300)) + np.log(prior)[None, :]
    log_w -= log_w.max(axis=1, keepdims=True)
    weights = np.exp(log_w)
    return np.asarray(weights / weights.sum(axis=1, keepdims=True), dtype=np.float64)


def true_churn_probability(
    book: pd.DataFrame,
    premium: FloatArray | pd.Series | float | None = None,
    action: str = NO_ACTION,
    actions: Sequence[str] | None = None,
) -> FloatArray:
    """True probability of churn for each customer of ``book``, given its columns.

    ``premium`` is the renewal premium offered before any action (default: the book's
    ``proposed_premium``); it may be a scalar, an array or a Series aligned with ``book``.
    Price actions apply on top of it (a 10 % loyalty discount of that premium, a freeze at
    the current ``annual_premium``). With ``actions`` several actions are scored at once and
    the result has one column per action.
    """
    obs_all = _Observed.from_frame(book)
    n = len(book)
    if premium is None:
        offered = book["proposed_premium"].to_numpy(dtype=np.float64)
    else:
        offered = np.broadcast_to(np.asarray(premium, dtype=np.float64), (n,)).copy()
    names = list(actions) if actions is not None else [action]
    for name in names:
        if name != NO_ACTION and name not in ACTIONS:
            raise ValueError(f"unknown action {name!r}; known: none, {', '.join(ACTIONS)}")

    unit_nodes, unit_weights = np.polynomial.hermite_e.hermegauss(_QUADRATURE_NODES)
    nodes = LOYALTY_SD * unit_nodes
    prior = unit_weights / unit_weights.sum()
    out = np.empty((n, len(names)), dtype=np.float64)
    for start in range(0, n, _CHUNK_ROWS):
        rows = slice(start, min(start + _CHUNK_ROWS, n))
        obs = obs_all.take(rows)
        weights = _posterior_weights(obs, nodes, prior)
        for j, name in enumerate(names):
            p_nodes = _churn_given(obs, nodes[None, :], offered[rows], name)
            out[rows, j] = (p_nodes * weights).sum(axis=1)
    return out if actions is not None else out[:, 0]
