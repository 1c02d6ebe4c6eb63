"""LightGBM training with early stopping, deterministic for a given seed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

MAX_ROUNDS = 5000
EARLY_STOPPING_ROUNDS = 100


@dataclass(frozen=True)
class BoostingParams:
    """Sensible defaults for tabular churn data; early stopping picks the tree count."""

    objective: str = "binary"
    learning_rate: float = 0.05
    num_leaves: int = 31
    min_data_in_leaf: int = 100
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    bagging_freq: int = 1
    lambda_l2: float = 1.0
    max_rounds: int = MAX_ROUNDS
    early_stopping_rounds: int = EARLY_STOPPING_ROUNDS
    extra: dict[str, Any] = field(default_factory=dict)

    def to_lightgbm(self, seed: int, threads: int) -> dict[str, Any]:
        return {
            "objective": self.objective,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": self.bagging_freq,
            "lambda_l2": self.lambda_l2,
            "seed": seed,
            "num_threads": threads,
            # Same data + seed -> same trees, whatever the machine load.
            "deterministic": True,
            "force_col_wise": True,
            "verbosity": -1,
            **self.extra,
        }


CHURN_PARAMS = BoostingParams()
# The uplift S-learner: one model over all rows, cheap (~4 s on 200k), and the source of the
# action interactions. Every tree must be able to split on the action (feature_fraction 1)
# and it needs the patience of the churn model: with a learning rate of 0.1 and a patience
# of 30 its correlation with the true effect fell from 0.43 / 0.74 / 0.36 to 0.29 / 0.53 /
# 0.17 for bundle_discount / senior_agent_callback / payment_plan (200k book, held-out rows).
S_LEARNER_PARAMS = BoostingParams(feature_fraction=1.0)
# The offset learner's trees model the log-odds shift of an action on top of the no-action
# response: a small, noisy signal (~8k treated customers per action on the 200k book, effects
# of a few points of churn). Small trees, large leaves and a strong L2 penalty; the tree count
# comes from 5-fold cross-validation, because one 20 % validation split (~1,600 customers)
# is too noisy a stopping signal: it stopped after 9 trees for bundle_discount.
OFFSET_PARAMS = BoostingParams(
    num_leaves=7,
    min_data_in_leaf=400,
    lambda_l2=10.0,
    max_rounds=1000,
    early_stopping_rounds=50,
)
# The offset learner's per-action stages are additive ridge logistic models
# (training/models/additive.py) since 2026-11-23; three-leaf trees (3 leaves, 200 rows per
# leaf, L2 50) found the small-group effects less well (bench/results/train.md).
OFFSET_FOLDS = 5
# Distillation targets are smooth: a few large trees at a high learning rate reproduce them
# (correlation > 0.99 with the ensemble, measured) and keep batch scoring fast, since every
# action costs one model call per customer.
DISTILL_PARAMS = BoostingParams(
    objective="regression",
    learning_rate=0.3,
    num_leaves=63,
    min_data_in_leaf=50,
    feature_fraction=1.0,
    bagging_fraction=1.0,
    bagging_freq=0,
    max_rounds=40,
)


def fit_booster(
    x: FloatArray,
    y: FloatArray,
    valid_x: FloatArray,
    valid_y: FloatArray,
    params: BoostingParams,
    categorical: Sequence[int],
    seed: int,
    threads: int = 0,
) -> lgb.Booster:
    """Train until the validation loss stops improving; keep only the best iteration."""
    train_set = lgb.Dataset(
        x, y, categorical_feature=list(categorical), free_raw_data=True, params={"verbosity": -1}
    )
    valid_set = lgb.Dataset(valid_x, valid_y, reference=train_set)
    booster = lgb.train(
        params.to_lightgbm(seed, threads),
        train_set,
        num_boost_round=params.max_rounds,
        valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(params.early_stopping_rounds, verbose=False)],
    )
    # Drop the trees after the best iteration so the saved model is the one validated.
    return booster.model_from_string(booster.model_to_string(num_iteration=booster.best_iteration))


SPLIT_SALT = 35
"""Mixed into every split seed. A bare ``default_rng(seed)`` would replay the stream of any
other generator seeded with the same number: the synthetic book of seed 7 draws its segments
from the first uniforms of ``default_rng(7)``, so the default 30 % test split of seed 7 was
*exactly* the mass-segment customers whose first uniform fell below 0.3 (no VIP or
affiliated customer was ever held out). Any value breaks that coincidence; the tests pass
with others too (checked with 1 and 2)."""


def fit_offset_booster(
    x: FloatArray,
    y: FloatArray,
    offset: FloatArray,
    params: BoostingParams,
    categorical: Sequence[int],
    seed: int,
    folds: int = OFFSET_FOLDS,
    threads: int = 0,
) -> lgb.Booster:
    """Boost from ``offset`` (a per-row raw score, e.g. log-odds) instead of from a constant.

    The returned trees predict only the correction to the offset: ``predict(x, raw_score=
    True)`` is the shift to add to it. The number of trees is the one with the best mean
    validation loss over ``folds`` cross-validation folds; the final model is refitted on
    every row with that many trees (at least one; a tree without a split adds a constant).
    """
    data = lgb.Dataset(
        x,
        y,
        init_score=offset,
        categorical_feature=list(categorical),
        free_raw_data=False,
        params={"verbosity": -1},
    )
    lgb_params = params.to_lightgbm(seed, threads)
    history = lgb.cv(
        lgb_params,
        data,
        num_boost_round=params.max_rounds,
        nfold=folds,
        stratified=False,
        seed=seed,
        callbacks=[lgb.early_stopping(params.early_stopping_rounds, verbose=False)],
    )
    curves = [v for k, v in history.items() if k.endswith("-mean") and isinstance(v, list)]
    rounds = len(curves[0])
    return lgb.train(lgb_params, data, num_boost_round=rounds)


def split_mask(n: int, share: float, seed: int) -> npt.NDArray[np.bool_]:
    """A reproducible random subset of ``share`` of ``n`` rows."""
    return np.random.default_rng([seed, SPLIT_SALT]).random(n) < share
