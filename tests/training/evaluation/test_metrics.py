"""Tests for churn and uplift metrics (training/evaluation/metrics.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from training.evaluation.metrics import (
    auuc,
    calibration_table,
    classification_metrics,
    effect_qini_coefficient,
    effect_qini_curve,
    gains_curve,
    qini_coefficient,
    qini_curve,
    qini_interval,
    uplift_by_group,
    uplift_calibration,
    uplift_curve,
)

# -- churn classifiers -------------------------------------------------------------------


def test_classification_metrics_by_hand() -> None:
    y = [0, 0, 1, 1]
    p = [0.1, 0.4, 0.35, 0.8]
    m = classification_metrics(y, p)
    assert m["roc_auc"] == pytest.approx(0.75)  # 3 of 4 (churner, stayer) pairs ordered
    assert m["pr_auc"] == pytest.approx((1.0 + 2 / 3) / 2)  # precision 1 at 0.8, 2/3 at 0.35
    assert m["brier"] == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    expected_ll = -(np.log(0.9) + np.log(0.6) + np.log(0.35) + np.log(0.8)) / 4
    assert m["log_loss"] == pytest.approx(expected_ll)
    assert m["base_rate"] == 0.5
    # top 10% = 0.4 of the highest-scored customer, a churner: 0.4·1/2 churners captured
    assert m["top_decile_lift"] == pytest.approx((0.4 * 1 / 2) / 0.1)


def test_top_decile_lift_on_twenty_customers() -> None:
    y = np.zeros(20)
    y[[0, 5, 10, 15]] = 1  # base rate 0.2
    p = np.linspace(0.99, 0.01, 20)  # customer 0 ranks first, customer 1 second
    assert classification_metrics(y, p)["top_decile_lift"] == pytest.approx(0.5 / 0.2)


def test_gains_curve_by_hand() -> None:
    x, g = gains_curve([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1])
    np.testing.assert_allclose(x, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(g, [0, 0.5, 0.5, 1, 1])


def test_gains_curve_ties_are_one_step() -> None:
    # tied scores form one step, so the order of tied rows cannot matter
    x, g = gains_curve([1, 0, 0, 1], [0.5, 0.5, 0.5, 0.2])
    np.testing.assert_allclose(x, [0, 0.75, 1])
    np.testing.assert_allclose(g, [0, 0.5, 1])
    _, g2 = gains_curve([0, 0, 1, 1], [0.5, 0.5, 0.5, 0.2])
    np.testing.assert_allclose(g2, g)


def test_calibration_table_quantile_bins() -> None:
    p = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9])
    y = np.array([0, 0, 1, 0, 1, 0, 1, 1])
    table = calibration_table(y, p, n_bins=4)
    assert list(table.columns) == ["p_min", "p_max", "mean_predicted", "observed_rate", "count"]
    np.testing.assert_allclose(table["mean_predicted"], [0.15, 0.35, 0.65, 0.85])
    np.testing.assert_allclose(table["observed_rate"], [0.0, 0.5, 0.5, 1.0])
    assert table["count"].tolist() == [2, 2, 2, 2]
    assert table["count"].sum() == p.size


def test_calibration_table_keeps_ties_together() -> None:
    p = np.array([0.2] * 6 + [0.7] * 4)
    y = np.array([0, 0, 0, 0, 0, 1, 1, 1, 0, 1])
    table = calibration_table(y, p, n_bins=10)
    assert table["count"].tolist() == [6, 4]
    np.testing.assert_allclose(table["observed_rate"], [1 / 6, 0.75])


@pytest.mark.parametrize(
    ("y", "p", "message"),
    [
        ([0, 1, 2], [0.1, 0.2, 0.3], "only 0 and 1"),
        ([0, 1], [0.1, 1.2], r"\[0, 1\]"),
        ([0, 1], [0.1], "different lengths"),
        ([1, 1], [0.1, 0.2], "both"),
        ([0, 1], [np.nan, 0.2], "NaN"),
    ],
)
def test_classification_metrics_refuse_bad_input(
    y: list[float], p: list[float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        classification_metrics(y, p)


# -- uplift: small cases by hand ----------------------------------------------------------


def test_qini_curve_by_hand() -> None:
    # ranked: (treated, stayed), (control, churned), (treated, churned), (control, stayed)
    y = [0, 1, 1, 0]
    treated = [1, 0, 1, 0]
    score = [4, 3, 2, 1]
    x, q = qini_curve(y, treated, score)
    np.testing.assert_allclose(x, [0, 0.25, 0.5, 0.75, 1])
    # Q(k) = c_c·n_t/n_c − c_t, divided by N_t = 2;  Q = 0 while no control is seen
    # k=1: no control → 0;  k=2: 1·1/1 − 0 = 1;  k=3: 1·2/1 − 1 = 1;  k=4: 1·2/2 − 1 = 0
    np.testing.assert_allclose(q, [0, 0, 0.5, 0.5, 0])
    # same thing counted in retained customers: R_t − R_c·n_t/n_c
    # k=2: 1 − 0 = 1; k=3: 1 − 0·2 = 1; k=4: 1 − 1·2/2 = 0
    assert qini_coefficient(y, treated, score) == pytest.approx(
        np.trapezoid([0, 0, 0.5, 0.5, 0], [0, 0.25, 0.5, 0.75, 1])
    )


def test_uplift_curve_by_hand() -> None:
    y = [0, 1, 1, 0]
    treated = [1, 0, 1, 0]
    x, u = uplift_curve(y, treated, [4, 3, 2, 1])
    # k=2: (1/1 − 0/1)·2/4 = 0.5; k=3: (1/1 − 1/2)·3/4 = 0.375; k=4: (1/2 − 1/2)·1 = 0
    np.testing.assert_allclose(u, [0, 0, 0.5, 0.375, 0])
    assert auuc(y, treated, [4, 3, 2, 1]) == pytest.approx(np.trapezoid(u, x))


def test_uplift_metrics_refuse_one_sided_campaign() -> None:
    with pytest.raises(ValueError, match="both treated and control"):
        qini_coefficient([0, 1, 1], [1, 1, 1], [0.1, 0.2, 0.3])


# -- uplift: simulated campaign with known effects ----------------------------------------


def _campaign(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.random.Generator]:
    """Random assignment; effect = churn reduction, with persuadables, sure things/lost
    causes (no effect, tied) and sleeping dogs (negative)."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.15, 0.5, n)
    effect = rng.choice([0.12, 0.0, 0.0, -0.06], size=n) * rng.uniform(0.5, 1.0, n)
    treated = rng.integers(0, 2, n)
    y = (rng.random(n) < base - treated * effect).astype(np.int8)
    return y, treated, effect, rng


def test_qini_orders_oracle_noisy_and_random_rankings() -> None:
    y, treated, effect, rng = _campaign(2024, 200_000)
    oracle = qini_coefficient(y, treated, effect)
    noisy = qini_coefficient(y, treated, effect + rng.normal(0, 0.08, effect.size))
    random = qini_coefficient(y, treated, rng.random(effect.size))
    reversed_ = qini_coefficient(y, treated, -effect)
    assert oracle > noisy > 0.3 * oracle
    assert abs(random) < 0.1 * oracle
    assert reversed_ < -0.5 * oracle
    # the oracle Qini estimates the area of the noiseless curve (1/N)·Σ_top τ
    order = np.argsort(-effect)
    x = np.linspace(0, 1, effect.size + 1)
    truth = np.concatenate([[0], np.cumsum(effect[order]) / effect.size])
    assert oracle == pytest.approx(np.trapezoid(truth - x * truth[-1], x), rel=0.15)
    # the curves end at the average treatment effect
    assert qini_curve(y, treated, effect).value[-1] == pytest.approx(effect.mean(), abs=0.01)
    assert uplift_curve(y, treated, effect).value[-1] == pytest.approx(effect.mean(), abs=0.01)


def test_effect_qini_by_hand() -> None:
    # effects 0.3, -0.1, 0.2, 0.0 ranked by score: 0.3, 0.2, 0.0 (tied with -0.1), -0.1
    x, e = effect_qini_curve([0.3, -0.1, 0.2, 0.0], [4.0, 1.0, 3.0, 1.0])
    np.testing.assert_allclose(x, [0, 0.25, 0.5, 1])
    np.testing.assert_allclose(e, [0, 0.075, 0.125, 0.1])  # ends at the average effect
    area = np.trapezoid(e - x * 0.1, x)
    assert effect_qini_coefficient([0.3, -0.1, 0.2, 0.0], [4.0, 1.0, 3.0, 1.0]) == area


def test_effect_qini_is_what_the_observed_qini_estimates() -> None:
    y, treated, effect, rng = _campaign(7, 200_000)
    noisy = effect + rng.normal(0, 0.08, effect.size)
    for score in (effect, noisy, -effect):
        assert qini_coefficient(y, treated, score) == pytest.approx(
            effect_qini_coefficient(effect, score),
            abs=0.1 * effect_qini_coefficient(effect, effect),
        )
    oracle = effect_qini_coefficient(effect, effect)
    assert oracle > effect_qini_coefficient(effect, noisy) > 0
    assert abs(effect_qini_coefficient(effect, rng.random(effect.size))) < 0.02 * oracle


def test_auuc_orders_rankings() -> None:
    y, treated, effect, rng = _campaign(11, 200_000)
    ate_hat = uplift_curve(y, treated, effect).value[-1]  # estimated on these rows
    oracle = auuc(y, treated, effect)
    assert oracle > auuc(y, treated, effect + rng.normal(0, 0.08, y.size)) > ate_hat / 2
    # a random ranking sits on the line from (0, 0) to (1, ATE): area ATE/2
    excess = oracle - ate_hat / 2
    assert auuc(y, treated, rng.random(y.size)) == pytest.approx(ate_hat / 2, abs=0.2 * excess)


def test_tied_rows_do_not_depend_on_row_order() -> None:
    y, treated, effect, rng = _campaign(5, 5_000)
    coarse = np.round(effect, 1)  # few distinct values: many ties
    perm = rng.permutation(y.size)
    assert qini_coefficient(y, treated, coarse) == pytest.approx(
        qini_coefficient(y[perm], treated[perm], coarse[perm]), rel=1e-12
    )
    assert auuc(y, treated, coarse) == pytest.approx(
        auuc(y[perm], treated[perm], coarse[perm]), rel=1e-12
    )


@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
@settings(max_examples=30, deadline=None)
def test_random_score_qini_is_near_zero(seed: int) -> None:
    y, treated, effect, rng = _campaign(seed, 20_000)
    oracle = qini_coefficient(y, treated, effect)
    # the spread of a random ranking's coefficient is about 0.1 of the oracle's at this size
    assert abs(qini_coefficient(y, treated, rng.random(y.size))) < 0.6 * oracle


@given(
    data=st.lists(
        st.tuples(st.booleans(), st.booleans(), st.integers(min_value=-30, max_value=30)),
        min_size=2,
        max_size=200,
    ),
    transform=st.sampled_from(["affine", "exp", "arctan", "cube"]),
)
@settings(max_examples=200, deadline=None)
def test_qini_is_invariant_to_monotone_transforms(
    data: list[tuple[bool, bool, int]], transform: str
) -> None:
    y = np.array([d[0] for d in data], dtype=float)
    treated = np.array([d[1] for d in data], dtype=float)
    if treated.min() == treated.max():
        treated[0] = 1 - treated[0]
    score = np.array([d[2] for d in data], dtype=float)
    moved = {
        "affine": 2.0 * score - 7.0,
        "exp": np.exp(score / 10.0),
        "arctan": np.arctan(score),
        "cube": score**3,
    }[transform]
    assert qini_coefficient(y, treated, moved) == pytest.approx(
        qini_coefficient(y, treated, score), abs=1e-12
    )
    assert auuc(y, treated, moved) == pytest.approx(auuc(y, treated, score), abs=1e-12)


def test_qini_interval_separates_a_real_ranking_from_a_random_one() -> None:
    y, treated, effect, rng = _campaign(7, 20_000)
    informative = effect + rng.normal(0, 0.02, effect.size)
    low, high = qini_interval(y, treated, informative, resamples=100, seed=1)
    assert 0 < low < qini_coefficient(y, treated, informative) < high
    y0 = (rng.random(effect.size) < 0.2).astype(np.int8)  # no effect at all
    low0, high0 = qini_interval(y0, treated, rng.random(effect.size), resamples=100, seed=1)
    assert low0 < 0 < high0
    # Deterministic for a seed; another seed, another (close) interval.
    assert qini_interval(y, treated, informative, resamples=100, seed=1) == (low, high)
    assert qini_interval(y, treated, informative, resamples=100, seed=2) != (low, high)


def test_qini_interval_narrows_with_more_customers() -> None:
    small = _campaign(3, 4_000)
    large = _campaign(3, 64_000)
    widths = []
    for y, treated, effect, _ in (small, large):
        low, high = qini_interval(y, treated, effect, resamples=100, seed=0)
        widths.append(high - low)
    assert widths[1] < widths[0] / 2  # ~1/sqrt(16) = 1/4 in theory


# -- uplift calibration -----------------------------------------------------------------


def test_uplift_calibration_reads_the_spread_of_the_predictions() -> None:
    y, treated, effect, rng = _campaign(13, 200_000)
    exact = uplift_calibration(y, treated, effect)
    assert exact.ate == pytest.approx(effect.mean(), abs=3 * exact.ate_se)
    assert exact.slope == pytest.approx(1.0, abs=3 * exact.slope_se)
    assert exact.slope_se < 0.1
    # predictions half as far apart as the truth: the campaign shows twice their spread
    narrow = uplift_calibration(y, treated, effect.mean() + 0.5 * (effect - effect.mean()))
    assert narrow.slope == pytest.approx(2.0, abs=3 * narrow.slope_se)
    # a shift of every prediction changes neither the slope nor the average effect
    shifted = uplift_calibration(y, treated, effect + 0.3)
    assert shifted.slope == pytest.approx(exact.slope, abs=1e-9)
    assert shifted.ate == pytest.approx(exact.ate, abs=1e-9)
    # a ranking that knows nothing: slope indistinguishable from 0
    blind = uplift_calibration(y, treated, rng.random(y.size))
    assert abs(blind.slope) < 3 * blind.slope_se


def test_uplift_calibration_baseline_only_narrows_the_interval() -> None:
    rng = np.random.default_rng(21)
    n = 40_000
    base = rng.uniform(0.05, 0.6, n)
    effect = rng.uniform(0.0, 0.1, n)
    treated = rng.integers(0, 2, n)
    y = (rng.random(n) < base - treated * effect).astype(np.int8)
    plain = uplift_calibration(y, treated, effect)
    adjusted = uplift_calibration(y, treated, effect, baseline=base)
    assert adjusted.slope_se < plain.slope_se
    assert adjusted.ate_se < plain.ate_se
    for fit in (plain, adjusted):
        assert fit.slope == pytest.approx(1.0, abs=3 * fit.slope_se)


def test_uplift_by_group_by_hand() -> None:
    # two groups of 4 by score; low group: control churns 1/2, treated 1/2; high group:
    # control churns 2/2, treated 0/2
    y = [1, 0, 1, 0, 1, 1, 0, 0]
    treated = [0, 0, 1, 1, 0, 0, 1, 1]
    score = [0.1, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.8]
    table = uplift_by_group(y, treated, score, n_groups=2)
    np.testing.assert_allclose(table["observed"], [0.0, 1.0])
    np.testing.assert_allclose(table["mean_predicted"], [0.1, 0.875])
    np.testing.assert_allclose(table["se"], [np.sqrt(0.25 / 2 + 0.25 / 2), 0.0])
    assert table["treated"].tolist() == [2, 2]
    assert table["control"].tolist() == [2, 2]


def test_uplift_by_group_follows_the_true_effect() -> None:
    y, treated, effect, _ = _campaign(17, 200_000)
    table = uplift_by_group(y, treated, effect, n_groups=5)
    # half the customers have no effect (tied at 0): their quantile edges merge into one group
    assert len(table) == 4
    assert table["observed"].is_monotonic_increasing
    for row in table.itertuples():
        assert row.observed == pytest.approx(row.mean_predicted, abs=4 * row.se + 0.005)
