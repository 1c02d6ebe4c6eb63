"""Path contributions add up like TreeSHAP and rank features much as TreeSHAP does."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.scoring.path_contributions import PathContributions


def _data(seed: int, n: int = 2_000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.column_stack(
        [rng.normal(size=n), rng.normal(size=n), rng.integers(0, 4, n), rng.normal(size=n)]
    ).astype(np.float64)
    x[rng.random(n) < 0.1, 0] = np.nan  # the missing branch is a path like any other
    logit = 1.2 * np.nan_to_num(x[:, 0]) - 0.8 * x[:, 1] + 0.6 * (x[:, 2] == 2) + 0.1 * x[:, 3]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.float64)
    return x, y


def _train(x: np.ndarray, y: np.ndarray, rounds: int, leaves: int, seed: int) -> lgb.Booster:
    params = {"objective": "binary", "num_leaves": leaves, "verbose": -1, "seed": seed,
              "min_data_in_leaf": 5}  # fmt: skip
    return lgb.train(params, lgb.Dataset(x, y, categorical_feature=[2]), rounds)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), rounds=st.integers(1, 40), leaves=st.integers(2, 31))
def test_contributions_add_up_to_the_raw_score(seed: int, rounds: int, leaves: int) -> None:
    x, y = _data(seed, 600)
    booster = _train(x, y, rounds, leaves, seed)
    path = PathContributions(booster)
    raw = booster.predict(x, raw_score=True)
    shap = booster.predict(x, pred_contrib=True)
    found = np.vstack([path.contributions(leaf) for leaf in booster.predict(x, pred_leaf=True)])
    np.testing.assert_allclose(found.sum(axis=1) + path.expected_value, raw, atol=1e-9)
    np.testing.assert_allclose(path.expected_value, shap[:, -1], atol=1e-9)


def test_a_single_split_per_tree_is_exact_treeshap() -> None:
    x, y = _data(1)
    booster = _train(x, y, rounds=20, leaves=2, seed=1)  # stumps: no interactions
    path = PathContributions(booster)
    shap = booster.predict(x, pred_contrib=True)[:, :-1]
    found = np.vstack([path.contributions(leaf) for leaf in booster.predict(x, pred_leaf=True)])
    np.testing.assert_allclose(found, shap, atol=1e-9)


def test_the_top_feature_mostly_agrees_with_treeshap() -> None:
    x, y = _data(2)
    booster = _train(x, y, rounds=100, leaves=31, seed=2)
    path = PathContributions(booster)
    shap = booster.predict(x, pred_contrib=True)[:, :-1]
    found = np.vstack([path.contributions(leaf) for leaf in booster.predict(x, pred_leaf=True)])
    agree = np.mean(np.argmax(np.abs(found), axis=1) == np.argmax(np.abs(shap), axis=1))
    assert agree > 0.85
    assert np.corrcoef(found.ravel(), shap.ravel())[0, 1] > 0.95


def test_early_stopped_models_use_the_best_iteration_only() -> None:
    x, y = _data(3)
    booster = _train(x, y, rounds=30, leaves=7, seed=3)
    booster.best_iteration = 10
    path = PathContributions(booster)
    assert path.n_trees == 10
    leaves = booster.predict(x[:50], pred_leaf=True, num_iteration=10)
    raw = booster.predict(x[:50], raw_score=True, num_iteration=10)
    found = np.vstack([path.contributions(leaf) for leaf in leaves])
    np.testing.assert_allclose(found.sum(axis=1) + path.expected_value, raw, atol=1e-9)


def test_multiclass_models_are_refused() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(300, 3)), rng.integers(0, 3, 300)
    booster = lgb.train({"objective": "multiclass", "num_class": 3, "verbose": -1},
                        lgb.Dataset(x, y), 5)  # fmt: skip
    with pytest.raises(ValueError, match="single-output"):
        PathContributions(booster)
