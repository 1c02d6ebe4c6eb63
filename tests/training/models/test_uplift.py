"""Per-action uplift (training/models/uplift.py) on small campaigns with a known effect."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pytest
from scipy.special import expit

from training.models.boosting import (
    CHURN_PARAMS,
    OFFSET_PARAMS,
    fit_booster,
    fit_offset_booster,
    split_mask,
)
from training.models.uplift import (
    PRICE_RESPONSE_WEIGHT,
    UpliftData,
    constant_shift,
    fit_offset_uplift,
    fit_uplift,
    logit,
)

FloatArray = npt.NDArray[np.float64]

# Columns 0-3 drive churn and the effects; 4 is noise; 5 is a categorical with 3 levels.
CATEGORICAL = [5]
# Correlation of the learned with the true effect on fresh customers (measured: about 0.90
# for the strong, one-split effect of "persuade", 0.77-0.79 for the weaker "remind").
MIN_CORR = {"persuade": 0.8, "remind": 0.65}


def _features(rng: np.random.Generator, n: int) -> FloatArray:
    return np.column_stack([rng.normal(size=(n, 5)), rng.integers(0, 3, n)]).astype(np.float64)


def _true_logits(x: FloatArray) -> dict[str, FloatArray]:
    """Churn log-odds without action and under each action.

    Being contacted at all raises churn for the "dormant" customers (x3 > 1: sleeping dogs);
    ``persuade`` then lowers it a lot where x1 > 0 only; ``remind`` lowers it a little for
    everyone and more in category level 2.
    """
    base = -1.6 + 0.8 * x[:, 0] + 0.3 * (x[:, 5] == 1)
    contact = 0.6 * (x[:, 3] > 1.0)
    return {
        "none": base,
        "persuade": base + contact - 1.2 * (x[:, 1] > 0),
        "remind": base + contact - 0.2 - 0.5 * (x[:, 5] == 2),
    }


def _true_uplift(x: FloatArray) -> dict[str, FloatArray]:
    logits = _true_logits(x)
    p0 = expit(logits["none"])
    return {a: np.asarray(p0 - expit(v), np.float64) for a, v in logits.items() if a != "none"}


def _campaign(seed: int, untreated: int, per_action: int) -> UpliftData:
    rng = np.random.default_rng(seed)
    arm = np.array(
        [None] * untreated + ["persuade"] * per_action + ["remind"] * per_action, dtype=object
    )
    x = _features(rng, len(arm))
    logits = _true_logits(x)
    row_logit = logits["none"].copy()
    for action in ("persuade", "remind"):
        row_logit[arm == action] = logits[action][arm == action]
    y = (rng.random(len(arm)) < expit(row_logit)).astype(np.float64)
    return UpliftData(x=x, y=y, arm=arm, categorical=CATEGORICAL)


def _churn_model(data: UpliftData, seed: int) -> tuple[FloatArray, lgb.Booster]:
    untreated = np.array([a is None for a in data.arm])
    x, y = data.x[untreated], data.y[untreated]
    valid = split_mask(len(y), 0.2, seed)
    model = fit_booster(x[~valid], y[~valid], x[valid], y[valid], CHURN_PARAMS, CATEGORICAL, seed)
    return np.asarray(model.predict(data.x), np.float64), model


@pytest.fixture(scope="module")
def campaign() -> UpliftData:
    return _campaign(seed=1, untreated=15_000, per_action=6_000)


def test_constant_shift_is_the_maximum_likelihood_shift() -> None:
    rng = np.random.default_rng(0)
    offset = rng.normal(-1.0, 1.0, 50_000)
    y = (rng.random(offset.size) < expit(offset + 0.7)).astype(np.float64)
    b = constant_shift(y, offset)
    assert b == pytest.approx(0.7, abs=0.05)
    # the score equation of the one-parameter logistic regression holds exactly
    assert float((y - expit(offset + b)).sum()) == pytest.approx(0.0, abs=1e-6)
    assert constant_shift(np.zeros(10), np.zeros(10)) < -5  # no events: a large negative shift


def test_offset_booster_learns_only_the_correction_to_the_offset() -> None:
    rng = np.random.default_rng(2)
    x = _features(rng, 12_000)
    offset = -1.0 + 0.9 * x[:, 0]  # known, and not learnable by the trees' own intercept
    shift = 0.8 * (x[:, 1] > 0)
    y = (rng.random(len(x)) < expit(offset + shift)).astype(np.float64)
    booster = fit_offset_booster(x, y, offset, OFFSET_PARAMS, CATEGORICAL, seed=3)
    learned = np.asarray(booster.predict(x, raw_score=True), np.float64)
    gap = learned[x[:, 1] > 0].mean() - learned[x[:, 1] <= 0].mean()
    assert gap == pytest.approx(0.8, abs=0.2)
    # the trees do not re-learn what the offset already explains
    assert abs(np.corrcoef(learned, x[:, 0])[0, 1]) < 0.2


def test_offset_learner_recovers_a_known_heterogeneous_effect(campaign: UpliftData) -> None:
    mu0, churn = _churn_model(campaign, seed=4)
    offset = fit_offset_uplift(campaign, mu0, ["persuade", "remind"], seed=5)
    fresh = _features(np.random.default_rng(6), 10_000)
    learned = offset.uplift(fresh, np.asarray(churn.predict(fresh), np.float64))
    truth = _true_uplift(fresh)
    for action in ("persuade", "remind"):
        assert np.corrcoef(learned[action], truth[action])[0, 1] > MIN_CORR[action], action
        # magnitudes calibrated up to the sampling noise of 6,000 treated customers
        assert learned[action].mean() == pytest.approx(truth[action].mean(), abs=0.012), action
    # the shared stage learned that contact itself hurts the dormant customers
    dormant = fresh[:, 3] > 1.0
    assert (learned["remind"][dormant].mean()) < (learned["remind"][~dormant].mean())


def test_fit_uplift_distils_one_regressor_per_action_that_ranks_like_the_truth(
    campaign: UpliftData,
) -> None:
    _, churn = _churn_model(campaign, seed=4)

    def mu0(x: FloatArray) -> FloatArray:
        return np.asarray(churn.predict(x), np.float64)

    fit = fit_uplift(campaign, mu0, seed=7)
    assert sorted(fit.models) == ["persuade", "remind"]
    assert fit.skipped == {}
    fresh = _features(np.random.default_rng(8), 10_000)
    truth = _true_uplift(fresh)
    for action, model in fit.models.items():
        predicted = np.asarray(model.predict(fresh), np.float64)
        assert np.corrcoef(predicted, truth[action])[0, 1] > MIN_CORR[action], action
        assert predicted.mean() == pytest.approx(truth[action].mean(), abs=0.015), action


def test_fit_uplift_skips_actions_with_too_little_data() -> None:
    data = _campaign(seed=9, untreated=3_000, per_action=400)
    fit = fit_uplift(data, lambda x: np.full(len(x), 0.2), seed=1, min_rows=500)
    assert fit.models == {}
    assert set(fit.skipped) == {"persuade", "remind"}
    assert "too little data: 400 treated customers" in fit.skipped["persuade"]
    assert fit.counts["remind"]["untreated"] == 3_000


def test_logit_is_finite_at_the_edges() -> None:
    values = logit(np.array([0.0, 0.5, 1.0]))
    assert np.all(np.isfinite(values))
    assert values[1] == 0.0


def test_a_price_action_blends_in_the_churn_models_price_response(campaign: UpliftData) -> None:
    """Half of a price action's uplift is the churn model's response to its price change
    (``price_mu0``: μ0 at the action's premium); other actions are untouched."""
    _, churn = _churn_model(campaign, seed=4)

    def mu0(x: FloatArray) -> FloatArray:
        return np.asarray(churn.predict(x), np.float64)

    cheaper = mu0(campaign.x) - 0.08  # the offered price lowers churn by 8 points
    plain = fit_uplift(campaign, mu0, seed=7)
    priced = fit_uplift(campaign, mu0, seed=7, price_mu0={"persuade": cheaper})
    fresh = _features(np.random.default_rng(8), 10_000)
    w = PRICE_RESPONSE_WEIGHT
    before = {a: np.asarray(m.predict(fresh), np.float64) for a, m in plain.models.items()}
    after = {a: np.asarray(m.predict(fresh), np.float64) for a, m in priced.models.items()}
    expected = (1 - w) * before["persuade"].mean() + w * 0.08
    assert after["persuade"].mean() == pytest.approx(expected, abs=0.005)
    assert np.corrcoef(after["persuade"], before["persuade"])[0, 1] > 0.95  # ranking kept
    assert np.array_equal(after["remind"], before["remind"])
