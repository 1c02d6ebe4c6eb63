"""Tests for the shifted-beta-geometric retention model (training/sbg.py)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import hyp2f1

from training.sbg import SBGFit, fit_sbg, fit_sbg_from_durations, fit_sbg_from_renewals

# Fader & Hardie (2007), survivors at the start of years 0..7 of a 1,000-customer cohort.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


@pytest.mark.parametrize(
    ("survivors", "alpha", "beta"),
    [(REGULAR, 0.704, 1.182), (HIGH_END, 0.668, 3.806)],
    ids=["regular", "high-end"],
)
def test_reproduces_published_fit(survivors: list[int], alpha: float, beta: float) -> None:
    fit = fit_sbg(survivors)
    assert round(fit.alpha, 3) == alpha
    assert round(fit.beta, 3) == beta
    assert fit.n_periods == 7


def test_log_likelihood_is_the_maximum() -> None:
    fit = fit_sbg(REGULAR)
    s = np.array(REGULAR, dtype=float)
    churned = s[:-1] - s[1:]

    def loglik(a: float, b: float) -> float:
        m = SBGFit(a, b, 0.0, 7)
        return float(
            churned @ np.log(m.churn_probability(np.arange(1, 8))) + s[-1] * np.log(m.survival(7))
        )

    assert fit.log_likelihood == pytest.approx(loglik(fit.alpha, fit.beta), rel=1e-10)
    for da, db in [(0.01, 0), (-0.01, 0), (0, 0.01), (0, -0.01)]:
        assert loglik(fit.alpha + da, fit.beta + db) < fit.log_likelihood


def _expand(survivors: list[int]) -> tuple[np.ndarray, np.ndarray]:
    s = np.array(survivors)
    lost = s[:-1] - s[1:]
    durations = np.concatenate([np.repeat(np.arange(1, s.size), lost), np.full(s[-1], s.size - 1)])
    censored = np.concatenate([np.zeros(lost.sum(), bool), np.ones(s[-1], bool)])
    return durations, censored


@pytest.mark.parametrize("survivors", [REGULAR, HIGH_END], ids=["regular", "high-end"])
def test_durations_fit_matches_counts_fit(survivors: list[int]) -> None:
    durations, censored = _expand(survivors)
    rng = np.random.default_rng(7)
    order = rng.permutation(durations.size)
    by_counts = fit_sbg(survivors)
    by_rows = fit_sbg_from_durations(durations[order], censored[order].astype(int))
    assert by_rows.alpha == pytest.approx(by_counts.alpha, rel=1e-6)
    assert by_rows.beta == pytest.approx(by_counts.beta, rel=1e-6)
    assert by_rows.log_likelihood == pytest.approx(by_counts.log_likelihood, rel=1e-10)
    assert by_rows.n_periods == 7


def test_durations_fit_recovers_simulated_parameters_with_staggered_entry() -> None:
    rng = np.random.default_rng(2007)
    n = 200_000
    theta = rng.beta(0.7, 1.2, n)
    lifetime = rng.geometric(theta)  # period of churn, 1, 2, ...
    observed_for = rng.integers(0, 12, n)  # periods since each customer joined
    durations = np.minimum(lifetime, observed_for)
    fit = fit_sbg_from_durations(durations, lifetime > observed_for)
    assert fit.alpha == pytest.approx(0.7, rel=0.05)
    assert fit.beta == pytest.approx(1.2, rel=0.05)


def test_survival_churn_and_retention_agree() -> None:
    fit = fit_sbg(REGULAR)
    t = np.arange(1, 30)
    s = fit.survival(np.arange(0, 30))
    assert s[0] == 1.0
    np.testing.assert_allclose(fit.churn_probability(t), s[:-1] - s[1:], rtol=1e-12)
    np.testing.assert_allclose(fit.retention_rate(t), s[1:] / s[:-1], rtol=1e-12)
    assert fit.churn_probability(t).sum() + s[-1] == pytest.approx(1.0, abs=1e-12)
    # retention rises with tenure: the heterogeneity the model exists to capture
    assert np.all(np.diff(fit.retention_rate(t)) > 0)
    assert isinstance(fit.survival(3), float)
    assert fit.retention_rate(1) == pytest.approx(fit.beta / (fit.alpha + fit.beta))


def test_fitted_survival_tracks_the_data() -> None:
    fit = fit_sbg(REGULAR)
    projected = 1000 * fit.survival(np.arange(8))
    np.testing.assert_allclose(projected, REGULAR, atol=12)


@given(
    alpha=st.floats(min_value=1e-3, max_value=1e3),
    beta=st.floats(min_value=1e-3, max_value=1e3),
    horizon=st.integers(min_value=1, max_value=60),
)
@settings(max_examples=200, deadline=None)
def test_survival_is_a_distribution(alpha: float, beta: float, horizon: int) -> None:
    fit = SBGFit(alpha, beta, 0.0, horizon)
    s = fit.survival(np.arange(horizon + 1))
    assert np.all(np.diff(s) <= 1e-15)
    assert np.all((s >= 0) & (s <= 1))
    p = fit.churn_probability(np.arange(1, horizon + 1))
    assert p.sum() + s[-1] == pytest.approx(1.0, abs=1e-9)


def test_lifetime_value_matches_closed_form_derl() -> None:
    # Fader & Hardie (2010): DERL(d | α, β, n) = (β+n)/(α+β+n) · 2F1(1, β+n+1; α+β+n+1; 1/(1+d)),
    # with the first renewal undiscounted; ours discounts it once.
    fit = fit_sbg(HIGH_END)
    a, b, d = fit.alpha, fit.beta, 0.1
    for n in (0, 4):
        derl = (b + n) / (a + b + n) * hyp2f1(1, b + n + 1, a + b + n + 1, 1 / (1 + d))
        ours = fit.expected_lifetime_value(1.0, d, 2000, periods_already_survived=n)
        assert ours == pytest.approx(derl / (1 + d), rel=1e-9)


def test_lifetime_value_one_period_and_no_discount() -> None:
    fit = fit_sbg(REGULAR)
    assert fit.expected_lifetime_value(50.0, 0.0, 1) == pytest.approx(50.0 * fit.survival(1))
    undiscounted = fit.expected_lifetime_value(1.0, 0.0, 10)
    assert undiscounted == pytest.approx(fit.survival(np.arange(1, 11)).sum())


def test_lifetime_value_is_vectorised_and_monotone() -> None:
    fit = fit_sbg(REGULAR)
    margins = np.array([[0.0, 100.0, 200.0], [300.0, 400.0, 500.0]])
    tenure = np.array([[0, 1, 2], [3, 3, 10]])
    values = fit.expected_lifetime_value(margins, 0.08, 15, tenure)
    assert values.shape == (2, 3)
    for i in np.ndindex(margins.shape):
        single = fit.expected_lifetime_value(float(margins[i]), 0.08, 15, int(tenure[i]))
        assert values[i] == pytest.approx(single)

    grid = np.linspace(0, 1000, 11)
    assert np.all(np.diff(fit.expected_lifetime_value(grid, 0.08, 15)) > 0)
    by_rate = [fit.expected_lifetime_value(100.0, d, 15) for d in (0.0, 0.05, 0.1, 0.2)]
    assert all(x > y for x, y in itertools.pairwise(by_rate))
    # survivors are more loyal, so they are worth more for the same margin
    by_tenure = fit.expected_lifetime_value(100.0, 0.08, 15, np.arange(10))
    assert np.all(np.diff(by_tenure) > 0)
    # a longer horizon adds value
    assert fit.expected_lifetime_value(100.0, 0.08, 30) > fit.expected_lifetime_value(
        100.0, 0.08, 15
    )


@pytest.mark.parametrize(
    ("survivors", "message"),
    [
        ([1000, 600], "at least periods 0, 1 and 2"),
        ([0, 0, 0], "cohort size"),
        ([1000, 600, 700], "must not increase"),
        ([1000, 600, -1], ">= 0"),
        ([1000, 1000, 1000], "no churn"),
        ([1000, 0, 0], "beyond period 1"),
        ([1000, np.nan, 300], "finite"),
    ],
)
def test_bad_cohorts_are_refused(survivors: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fit_sbg(survivors)


@pytest.mark.parametrize(
    ("durations", "censored", "message"),
    [
        ([1, 2], [True], "same length"),
        ([], [], "no customers"),
        ([1.5, 2], [False, True], "whole numbers"),
        ([-1, 2], [True, True], ">= 0"),
        ([0, 2], [False, True], "duration >= 1"),
        ([1, 2], [2, 0], "boolean"),
        ([1, 1, 1], [False, False, True], "beyond period 1"),
    ],
)
def test_bad_durations_are_refused(
    durations: list[float], censored: list[int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        fit_sbg_from_durations(durations, censored)


def test_bad_value_arguments_are_refused() -> None:
    fit = fit_sbg(REGULAR)
    with pytest.raises(ValueError, match="horizon"):
        fit.expected_lifetime_value(1.0, 0.1, 0)
    with pytest.raises(ValueError, match="discount_rate"):
        fit.expected_lifetime_value(1.0, -0.5, 5)
    with pytest.raises(ValueError, match="periods_already_survived"):
        fit.expected_lifetime_value(1.0, 0.1, 5, -1)
    with pytest.raises(ValueError, match=">= 1"):
        fit.churn_probability(0)


def test_renewal_fit_recovers_parameters_of_a_left_truncated_book() -> None:
    # Simulate customers who joined at different times; keep those still with us (the book
    # at renewal) and observe one more renewal each.
    rng = np.random.default_rng(5)
    alpha, beta = 0.9, 2.5
    theta = rng.beta(alpha, beta, 400_000)
    lifetime = rng.geometric(theta)  # the period in which each customer churns
    age = rng.integers(0, 15, theta.size)  # periods since they joined
    alive = lifetime > age
    tenure, churned = age[alive], (lifetime[alive] == age[alive] + 1).astype(int)
    fit = fit_sbg_from_renewals(tenure, churned)
    assert fit.alpha == pytest.approx(alpha, rel=0.1)
    assert fit.beta == pytest.approx(beta, rel=0.1)


def test_renewal_fit_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="whole numbers"):
        fit_sbg_from_renewals([1.5, 2.0], [0, 1])
    with pytest.raises(ValueError, match="both churners and renewals"):
        fit_sbg_from_renewals([1, 2], [0, 0])
