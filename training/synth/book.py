"""Sampling the synthetic insurance book: customers, prices, history, campaign and outcome.

The generative story is told in ``training/SYNTH.md``; the churn function lives in
:mod:`training.synth.truth`. Every draw comes from one ``numpy.random.Generator`` in a fixed
order, so the same seed gives the same book, byte for byte.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from training.synth.truth import (
    ACTIONS,
    LOYALTY_SD,
    NO_ACTION,
    churn_probability_given_loyalty,
    complaints_rate,
    satisfaction_mean,
    true_churn_probability,
)

CONTROL: Final = "control"
CAMPAIGN_SHARE: Final = 0.40
"""Share of the book in the past retention campaign, split evenly over control + actions."""

SEGMENTS: Final = ("mass", "vip", "affiliated")
REGIONS: Final = ("north", "south", "east", "west", "capital")
CHANNELS: Final = ("agent", "broker", "direct_web", "aggregator", "bank_partner")

_CHANNEL_MIX: Final = {
    "mass": (0.25, 0.15, 0.25, 0.30, 0.05),
    "vip": (0.45, 0.35, 0.10, 0.05, 0.05),
    "affiliated": (0.10, 0.05, 0.10, 0.05, 0.70),
}
_REGION_PRICE: Final = (0.95, 1.0, 0.9, 1.05, 1.25)
_REGION_RATE_REVISION: Final = (0.0, 0.02, -0.02, 0.03, 0.05)


def _choice_by_group(
    rng: np.random.Generator, groups: npt.NDArray[np.int64], mixes: list[tuple[float, ...]]
) -> npt.NDArray[np.int64]:
    """Draw a category index per row from the mix of the row's group (inverse CDF)."""
    cdf = np.cumsum(np.asarray(mixes), axis=1)
    u = rng.random(len(groups))
    return np.asarray((u[:, None] > cdf[groups]).sum(axis=1), dtype=np.int64)


def generate_book(customers: int, seed: int) -> pd.DataFrame:
    """Generate a book of ``customers`` policyholders at renewal, with its ground truth."""
    rng = np.random.default_rng(seed)
    n = customers

    segment_idx = rng.choice(3, size=n, p=[0.75, 0.10, 0.15])
    age_mean = np.array([47.0, 55.0, 45.0])[segment_idx]
    age = np.clip(np.rint(rng.normal(age_mean, 14.0)), 18, 95)
    region_idx = rng.choice(5, size=n, p=[0.22, 0.20, 0.20, 0.18, 0.20])
    channel_idx = _choice_by_group(rng, segment_idx, [_CHANNEL_MIX[s] for s in SEGMENTS])
    tenure = np.minimum(np.floor(rng.exponential(4.0 + 0.1 * (age - 18))), np.minimum(age - 18, 45))

    vip = segment_idx == 1
    affiliated = segment_idx == 2
    has_motor = rng.random(n) < np.where(age < 80, 0.8, 0.4)
    has_home = rng.random(n) < 0.45 + 0.25 * vip
    has_life = rng.random(n) < 0.15 + 0.2 * vip + 0.1 * affiliated
    has_motor |= ~(has_motor | has_home | has_life)
    n_products = has_motor.astype(np.int64) + has_home + has_life

    young = np.clip((30.0 - age) / 12.0, 0.0, 1.0)
    claims_rate = 3 * (0.06 * has_motor * (1 + young) + 0.04 * has_home + 0.005 * has_life)
    claims = rng.poisson(claims_rate)
    claims_amount = np.where(claims > 0, claims * np.exp(rng.normal(7.6, 0.8, n)), 0.0)
    loss_free = np.where(
        claims > 0,
        rng.integers(0, 3, n),
        np.minimum(3 + np.floor(rng.exponential(5.0, n)), np.maximum(age - 18, 3)),
    )
    loss_free = np.minimum(loss_free, 25)

    motor_price = 520.0 * (1 + 0.9 * young) * np.where(age > 75, 1.3, 1.0)
    life_price = 300.0 * np.clip(1 + (age - 40) / 40, 0.5, 2.5)
    risk_price = (
        (has_motor * motor_price + has_home * 380.0 + has_life * life_price)
        * np.asarray(_REGION_PRICE)[region_idx]
        * np.where(vip, 1.6, 1.0)
        * (1 + 0.12 * claims)
        * np.exp(rng.normal(0.0, 0.15, n))
    )

    loyalty = rng.normal(0.0, LOYALTY_SD, n)
    complaints = rng.poisson(complaints_rate(loyalty, claims.astype(np.float64)))
    service_calls = rng.poisson(
        np.exp(0.1 + 0.35 * np.minimum(claims, 3) + 0.15 * (n_products - 1) + 0.3 * (age > 70))
    )
    late_payments = rng.poisson(np.exp(-2.2 + 0.6 * (age < 30) + 0.4 * (segment_idx == 0)))
    satisfaction_latent = satisfaction_mean(loyalty, complaints.astype(np.float64)) + rng.normal(
        0.0, 1.0, n
    )
    satisfaction = np.clip(np.floor(satisfaction_latent + 0.5), 1, 10)

    # The insurer's current pricing practice, which the engine is meant to improve on:
    # inflation, a claims loading, "price walking" of loyal customers, a regional revision.
    change = np.clip(
        0.01
        + 0.08 * np.minimum(claims, 3)
        + 0.006 * np.minimum(tenure, 10)
        + np.asarray(_REGION_RATE_REVISION)[region_idx]
        - 0.02 * vip
        + rng.normal(0.0, 0.05, n),
        -0.10,
        0.45,
    )
    annual_premium = np.round(risk_price * (1 + 0.015 * np.minimum(tenure, 12)), 2)
    proposed_premium = np.round(annual_premium * (1 + change), 2)
    new_business_premium = np.round(risk_price * 1.05 * 0.93, 2)
    expected_claims_cost = np.round(
        risk_price * 0.60 * (1 + 0.10 * np.minimum(claims, 3)) * np.exp(rng.normal(0, 0.08, n)),
        2,
    )
    cost_to_serve = np.round(
        35.0
        + 9.0 * service_calls
        + 45.0 * complaints
        + 60.0 * claims
        + 6.0 * late_payments
        + 15.0 * n_products,
        2,
    )

    in_campaign = rng.random(n) < CAMPAIGN_SHARE
    arms = np.array([CONTROL, *ACTIONS], dtype=object)
    arm_idx = rng.integers(0, len(arms), n)
    treatment = arms[arm_idx]
    treatment[~in_campaign] = None

    book = pd.DataFrame(
        {
            "customer_id": np.char.add("C", np.char.zfill(np.arange(1, n + 1).astype(str), 8)),
            "segment": np.asarray(SEGMENTS, dtype=object)[segment_idx],
            "age": age.astype(np.int64),
            "region": np.asarray(REGIONS, dtype=object)[region_idx],
            "acquisition_channel": np.asarray(CHANNELS, dtype=object)[channel_idx],
            "tenure_years": tenure.astype(np.int64),
            "n_products": n_products.astype(np.int64),
            "has_motor": has_motor,
            "has_home": has_home,
            "has_life": has_life,
            "annual_premium": annual_premium,
            "proposed_premium": proposed_premium,
            "new_business_premium": new_business_premium,
            "premium_change_pct": np.round((proposed_premium / annual_premium - 1) * 100, 2),
            "claims_count_3y": claims.astype(np.int64),
            "claims_amount_3y": np.round(claims_amount, 2),
            "years_loss_free": loss_free.astype(np.int64),
            "complaints_12m": complaints.astype(np.int64),
            "service_calls_12m": service_calls.astype(np.int64),
            "late_payments_12m": late_payments.astype(np.int64),
            "satisfaction": satisfaction.astype(np.int64),
            "expected_claims_cost": expected_claims_cost,
            "cost_to_serve": cost_to_serve,
            "margin": np.round(annual_premium - expected_claims_cost - cost_to_serve, 2),
            "email_opt_in": rng.random(n) < 0.6,
            "noise_1": np.round(rng.normal(0.0, 1.0, n), 4),
            "noise_2": np.round(rng.random(n), 4),
            "renewal_month": rng.integers(1, 13, n),
        }
    )
    book["customer_id"] = book["customer_id"].astype(object)

    # The outcome: drawn at the customer's own loyalty under the action they received.
    p_observed = churn_probability_given_loyalty(book, loyalty, proposed_premium, NO_ACTION)
    for action in ACTIONS:
        rows = treatment == action
        if rows.any():
            p_observed[rows] = churn_probability_given_loyalty(
                book.loc[rows], loyalty[rows], proposed_premium[rows], action
            )
    book["churned"] = (rng.random(n) < p_observed).astype(np.int64)
    book["treatment"] = pd.Series(treatment, dtype=object)

    truth = true_churn_probability(book, actions=[NO_ACTION, *ACTIONS])
    book["truth_loyalty"] = loyalty
    for j, action in enumerate([NO_ACTION, *ACTIONS]):
        book[f"truth_p_churn__{action}"] = truth[:, j]
    return book
