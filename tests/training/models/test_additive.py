"""The penalised additive logistic stage (training/models/additive.py)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from scipy.special import expit

from training.models.additive import (
    MODIFIER_PENALTY_FACTOR,
    AdditiveBasis,
    choose_penalty,
    fit_additive_stage,
    fit_ridge_logistic,
)

FloatArray = npt.NDArray[np.float64]


def _features(rng: np.random.Generator, n: int) -> FloatArray:
    """A continuous feature, a count (0-4), a flag, and a categorical code (3 levels)."""
    return np.column_stack(
        [
            rng.normal(size=n),
            rng.poisson(0.4, n).clip(0, 4),
            rng.integers(0, 2, n),
            rng.integers(0, 3, n),
        ]
    ).astype(np.float64)


def test_basis_has_levels_for_counts_bins_for_continuous_and_one_hot_categoricals() -> None:
    x = _features(np.random.default_rng(0), 5_000)
    basis = AdditiveBasis.fit(x, categorical=[3])
    kinds = [(t.column, t.kind) for t in basis.terms]
    assert kinds == [
        (0, "linear"),
        (0, "bins"),
        (1, "linear"),
        (1, "levels"),
        (2, "linear"),
        (2, "levels"),
        (3, "levels"),
    ]
    z = basis(x)
    # columns by feature: linear + 8 bins, linear + 5 count levels, linear + 2 flag
    # levels, 3 categorical levels
    assert z.shape == (5_000, 1 + 8 + 1 + 5 + 1 + 2 + 3)
    # every row falls in exactly one bin / level of each indicator block
    for block in (slice(1, 9), slice(10, 15), slice(16, 18), slice(18, 21)):
        assert np.all(z[:, block].sum(axis=1) == 1.0)


def test_basis_handles_missing_and_unseen_values() -> None:
    x = _features(np.random.default_rng(1), 2_000)
    basis = AdditiveBasis.fit(x, categorical=[3])
    odd = np.array([[np.nan, 7.0, np.nan, 5.0]])
    z = basis(odd)
    assert np.all(np.isfinite(z))
    linear = [0, 9, 15]
    indicators = np.delete(z[0], linear)
    assert np.all(indicators == 0.0)  # no indicator for a missing, unseen or new level
    # a missing value sits at the mean of the linear term
    assert z[0, 0] == 0.0
    assert z[0, 15] == 0.0
    assert z[0, 9] > 0.0  # an unseen count still enters through its (clipped) linear term


def test_ridge_logistic_with_offset_recovers_the_shift_and_the_intercept_is_free() -> None:
    rng = np.random.default_rng(2)
    n = 40_000
    offset = rng.normal(-1.0, 1.0, n)
    z = rng.normal(size=(n, 3))
    y = (rng.random(n) < expit(offset + 0.4 + 0.8 * z[:, 0])).astype(np.float64)
    w = fit_ridge_logistic(z, y, offset, penalty=1.0)
    assert w[0] == pytest.approx(0.4, abs=0.05)
    assert w[1] == pytest.approx(0.8, abs=0.05)
    assert np.all(np.abs(w[2:]) < 0.05)
    # a huge penalty leaves only the (unpenalised) intercept: the constant shift
    flat = fit_ridge_logistic(z, y, offset, penalty=1e9)
    assert np.all(np.abs(flat[1:]) < 1e-3)
    assert float((y - expit(offset + flat[0] + z @ flat[1:])).sum()) == pytest.approx(0.0, abs=1e-6)


def test_cross_validation_penalises_noise_more_than_signal() -> None:
    rng = np.random.default_rng(3)
    n = 8_000
    z = rng.normal(size=(n, 40))
    offset = np.full(n, -1.5)
    noise_only = (rng.random(n) < expit(offset)).astype(np.float64)
    signal = (rng.random(n) < expit(offset + 0.5 * z[:, 0])).astype(np.float64)
    grid = (1.0, 10.0, 100.0, 1000.0, 10_000.0)
    assert choose_penalty(z, noise_only, offset, seed=4, penalties=grid) >= 1000.0
    assert choose_penalty(z, signal, offset, seed=4, penalties=grid) <= 100.0


def test_additive_stage_finds_a_small_group_effect() -> None:
    rng = np.random.default_rng(5)
    n = 8_000
    x = _features(rng, n)
    offset = -1.5 + 0.5 * x[:, 0]
    group = x[:, 1] >= 1  # about a third of the customers: a count at least 1
    y = (rng.random(n) < expit(offset - 0.8 * group)).astype(np.float64)
    basis = AdditiveBasis.fit(x, categorical=[3])
    stage = fit_additive_stage(basis, x, y, offset, seed=6)
    shift = stage.shift(x)
    assert shift[group].mean() - shift[~group].mean() == pytest.approx(-0.8, abs=0.3)
    # what the offset already explains is not learned again
    # (the offset's slope on feature 0 is 0.5; the stage's own slope on it stays near 0)
    slope = np.polyfit(x[~group, 0], shift[~group], 1)[0]
    assert abs(slope) < 0.1


def test_penalty_weights_favour_only_the_declared_features_columns() -> None:
    x = _features(np.random.default_rng(7), 2_000)
    basis = AdditiveBasis.fit(x, categorical=[3])
    weights = basis.penalty_weights(x, favoured={1})
    assert weights.shape == (basis(x).shape[1],)
    # feature 1 (the count): its linear term and its five levels, columns 9-14
    assert np.all(weights[9:15] == MODIFIER_PENALTY_FACTOR)
    assert np.all(np.delete(weights, np.arange(9, 15)) == 1.0)
    assert np.all(basis.penalty_weights(x, favoured=()) == 1.0)


def test_ridge_weights_scale_each_columns_penalty() -> None:
    rng = np.random.default_rng(8)
    n = 6_000
    z = rng.normal(size=(n, 2))
    offset = np.full(n, -1.0)
    y = (rng.random(n) < expit(offset + 0.6 * z[:, 0] + 0.6 * z[:, 1])).astype(np.float64)
    w = fit_ridge_logistic(z, y, offset, penalty=3_000.0, weights=np.array([0.01, 1.0]))
    # the same evidence for both: the lightly penalised one keeps (nearly) all of its size
    assert w[1] == pytest.approx(0.6, abs=0.1)
    assert w[2] < 0.6 * w[1]


def test_a_declared_modifier_keeps_more_of_a_weak_group_effect() -> None:
    # A group effect at a few standard errors among many noise features: cross-validation
    # shrinks it hard; declared as the action's modifier it keeps more of its true size.
    n = 6_000
    gaps = {}
    for declared in ((), (1,)):
        found = []
        for seed in range(5):
            rng = np.random.default_rng(100 + seed)
            x = np.column_stack([_features(rng, n), rng.normal(size=(n, 12))])
            offset = np.full(n, -1.7)
            group = x[:, 1] >= 1
            y = (rng.random(n) < expit(offset - 0.35 * group)).astype(np.float64)
            basis = AdditiveBasis.fit(x, categorical=[3])
            shift = fit_additive_stage(basis, x, y, offset, seed=seed, modifiers=declared).shift(x)
            found.append(shift[group].mean() - shift[~group].mean())
        gaps[declared] = float(np.mean(found))
    assert -0.35 < gaps[()] < 0.0  # shrunk towards no effect
    assert gaps[(1,)] < gaps[()] - 0.05
    assert gaps[(1,)] > -0.5  # not blown up beyond the truth either
