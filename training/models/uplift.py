"""Per-action uplift: how much each past-campaign action lowers a customer's churn.

Trained only on the campaign's randomised history (``treatment`` / ``outcome``) plus the
customers who received no action. Two learners are averaged, because on data of this size
each is noisy in its own way and their errors are only partly shared (measured in
``bench/train.py`` and bench/results/train.md: the average ranked better than either alone
on every action, on two books):

- an **S-learner**: a LightGBM churn model over all rows with the action as a categorical
  feature; uplift = p(x, no action) − p(x, action). It pools the actions and the untreated
  customers, so shared effects (contact itself) are learned from every customer. It is a
  **committee of 5**: the rows are split into 5 folds, and model k is trained on the other
  four and stopped early on fold k; their uplifts are averaged. One model with one 20 %
  stopping split never learned from a fifth of the campaign, and which fifth moved the
  rankings of the small-group actions by several points; the committee learns from every
  row (bench/results/train.md, 2026-12-05: effect-Qini ratio on average over two books and
  two seeds +0.04 payment_plan, +0.02 bundle_discount, +0.01 callback, the others within
  0.003; ~25 s more training).
- an **offset learner** in log-odds space. The no-action response ``μ0`` is the churn model,
  fitted on the large untreated pool (campaign customers who got an action are not in it,
  so on them it is out of sample). Both of its stages *start* from ``logit μ0(x)``, so they
  learn only the action's shift of the log-odds, under the binomial likelihood: first a
  **shared stage** over every treated customer (what being contacted at all does, learned
  from all actions' customers): the constant shift fitted exactly (one-parameter logistic
  regression with offset), then small, strongly regularised LightGBM trees (``init_score``)
  whose number is chosen by 5-fold cross-validation; then one **stage per action** on top
  of it (what this action does beyond that): a ridge-penalised *additive* logistic
  regression (training/models/additive.py; penalty by 5-fold CV; the features the contract
  declares the action acts through, ``roles.treatment.modifiers``, penalised ten times
  less). Per-action effects sit
  on small groups of one action's ~8k treated customers; three-leaf boosted trees found
  them less well (bench/results/train.md, 2026-11-23: bundle_discount +0.03, payment_plan
  +0.06 in effect-Qini ratio, averaged over two books and two seeds). Uplift = ``μ0(x) −
  expit(logit μ0(x) + shift(x))``: calibrated in log-odds by construction, up to the
  sampling noise of the treated outcomes (about ±0.004 in an action's average effect with
  8k treated customers: no learner can do better than the data on that).

An X-learner (Künzel et al. 2019, regressions of imputed effects ``μ0(x) − Y``) was part of
the average until 2026-11; it was the weakest of the three on every action and cost most of
the uplift training time, so it was dropped (bench/results/train.md).

The average is then **distilled** into one LightGBM regressor per action (predicting the
probability-scale reduction p(no action) − p(action)), so serving costs one model call per
action.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
from scipy.special import expit

from training.models.additive import AdditiveBasis, AdditiveStage, fit_additive_stage
from training.models.boosting import (
    DISTILL_PARAMS,
    OFFSET_PARAMS,
    S_LEARNER_PARAMS,
    SPLIT_SALT,
    BoostingParams,
    fit_booster,
    fit_offset_booster,
    split_mask,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

METHOD = (
    "S-learner (5-fold committee) + log-odds offset learner (shared contact stage: LightGBM; "
    "per action: ridge additive logistic, declared effect modifiers penalised less) average, "
    "distilled per action (LightGBM)"
)
S_LEARNER_FOLDS = 5
"""Members of the S-learner committee, each stopped early on its own fold of the rows."""
S_LEARNER_WEIGHT = 0.5
"""Weight of the S-learner in the distillation target; the offset learner has the rest."""
PRICE_RESPONSE_WEIGHT = 0.5
"""For a price action (the contract says what it does to the premium), weight of the churn
model's own price response ``μ0(x) − μ0(x at the action's premium)`` in the distillation
target: the churn model learned price from every customer's renewal offer, the campaign
only from ~8k treated customers per action."""


@dataclass(frozen=True)
class UpliftData:
    """Training rows: features, outcome, and each row's arm (None = no action)."""

    x: FloatArray
    y: FloatArray
    arm: npt.NDArray[np.object_]
    categorical: Sequence[int]


@dataclass(frozen=True)
class UpliftFit:
    models: dict[str, lgb.Booster]
    skipped: dict[str, str]
    counts: dict[str, dict[str, int]]


def _predict(model: lgb.Booster, x: FloatArray) -> FloatArray:
    return np.asarray(model.predict(x), dtype=np.float64)


def _with_action(x: FloatArray, code: float | FloatArray) -> FloatArray:
    return np.column_stack([x, np.broadcast_to(np.asarray(code, dtype=np.float64), len(x))])


def logit(p: FloatArray) -> FloatArray:
    """Log-odds of probabilities, clipped to [1e-6, 1 − 1e-6] so 0 and 1 stay finite."""
    clipped = np.clip(p, 1e-6, 1.0 - 1e-6)
    return np.asarray(np.log(clipped / (1.0 - clipped)), dtype=np.float64)


def constant_shift(y: FloatArray, offset: FloatArray, iterations: int = 25) -> float:
    """Maximum-likelihood ``b`` of ``P(y = 1) = expit(offset + b)`` (Newton's method)."""
    b = 0.0
    for _ in range(iterations):
        p = expit(offset + b)
        curvature = float((p * (1.0 - p)).sum())
        if curvature <= 0.0:
            break
        step = float((y - p).sum()) / curvature
        b += float(np.clip(step, -2.0, 2.0))
        if abs(step) < 1e-10:
            break
    return b


@dataclass(frozen=True)
class OffsetStage:
    """A log-odds shift: a constant plus trees (boosted from the offset, not from zero)."""

    constant: float
    trees: lgb.Booster

    def shift(self, x: FloatArray) -> FloatArray:
        return self.constant + np.asarray(self.trees.predict(x, raw_score=True), np.float64)


def fit_offset_stage(
    x: FloatArray,
    y: FloatArray,
    offset: FloatArray,
    categorical: Sequence[int],
    seed: int,
    params: BoostingParams = OFFSET_PARAMS,
) -> OffsetStage:
    constant = constant_shift(y, offset)
    trees = fit_offset_booster(x, y, offset + constant, params, categorical, seed)
    return OffsetStage(constant, trees)


@dataclass(frozen=True)
class OffsetUplift:
    """The offset learner: a shared contact stage and one stage per action on top of it."""

    shared: OffsetStage
    actions: dict[str, AdditiveStage]

    def uplift(self, x: FloatArray, mu0: FloatArray) -> dict[str, FloatArray]:
        """Per action, ``μ0 − expit(logit μ0 + shared + action shift)`` for rows ``x``."""
        contacted = logit(mu0) + self.shared.shift(x)
        return {
            action: np.asarray(mu0 - expit(contacted + stage.shift(x)), dtype=np.float64)
            for action, stage in self.actions.items()
        }


def fit_offset_uplift(
    data: UpliftData,
    mu0: FloatArray,
    actions: Sequence[str],
    seed: int,
    modifiers: Mapping[str, Collection[int]] | None = None,
) -> OffsetUplift:
    """Fit the offset learner on the treated rows of ``actions`` (``mu0``: per data row;
    ``modifiers``: per action, the feature indices it is declared to act through)."""
    base = logit(mu0)
    treated = np.isin(data.arm, list(actions))
    shared = fit_offset_stage(
        data.x[treated], data.y[treated], base[treated], data.categorical, seed + 50
    )
    contacted = base + shared.shift(data.x)
    # One basis for every action (fitted on all treated rows), so the actions' stages read
    # the features through the same columns.
    basis = AdditiveBasis.fit(data.x[treated], data.categorical)
    stages = {}
    for i, action in enumerate(actions, start=1):
        rows = data.arm == action
        stages[action] = fit_additive_stage(
            basis, data.x[rows], data.y[rows], contacted[rows], seed + 50 + i,
            (modifiers or {}).get(action, ()),
        )  # fmt: skip
    return OffsetUplift(shared, stages)


def _distill(
    x: FloatArray, target: FloatArray, categorical: Sequence[int], seed: int
) -> lgb.Booster:
    valid = split_mask(len(x), 0.2, seed)
    return fit_booster(
        x[~valid], target[~valid], x[valid], target[valid], DISTILL_PARAMS, categorical, seed
    )


def eligible_actions(
    data: UpliftData, min_rows: int, min_events: int
) -> tuple[list[str], dict[str, str], dict[str, dict[str, int]]]:
    """Actions with enough treated and untreated rows (and churn events) to learn from."""
    untreated = np.array([a is None for a in data.arm])
    n_untreated, events_untreated = int(untreated.sum()), int(data.y[untreated].sum())
    actions = sorted({str(a) for a in data.arm if a is not None})
    keep, skipped, counts = [], {}, {}
    for action in actions:
        rows = data.arm == action
        n, events = int(rows.sum()), int(data.y[rows].sum())
        counts[action] = {"treated": n, "treated_events": events, "untreated": n_untreated}
        if n < min_rows or events < min_events:
            skipped[action] = (
                f"too little data: {n} treated customers with {events} churn events "
                f"(need {min_rows} and {min_events})"
            )
        elif n_untreated < min_rows or events_untreated < min_events:
            skipped[action] = f"too little untreated data ({n_untreated} rows)"
        else:
            keep.append(action)
    return keep, skipped, counts


def fit_s_learner_uplift(
    data: UpliftData,
    actions: Sequence[str],
    seed: int,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, FloatArray]:
    """The S-learner committee's uplift of every data row, per action (module docstring).

    Rows: the untreated and the treated customers of ``actions``; member k of the
    ``S_LEARNER_FOLDS`` is trained on the other folds and stopped early on fold k."""
    untreated = np.array([a is None for a in data.arm])
    known = untreated | np.isin(data.arm, list(actions))
    codes = np.zeros(len(data.y))
    for i, action in enumerate(actions, start=1):
        codes[data.arm == action] = i
    s_categorical = [*data.categorical, data.x.shape[1]]
    s_x, s_y = _with_action(data.x[known], codes[known]), data.y[known]
    uplift = {action: np.zeros(len(data.y)) for action in actions}
    fold = np.random.default_rng([seed + 1, SPLIT_SALT]).integers(0, S_LEARNER_FOLDS, len(s_y))
    for k in range(S_LEARNER_FOLDS):
        progress(f"uplift: S-learner over all actions ({k + 1} of {S_LEARNER_FOLDS})")
        valid = fold == k
        model = fit_booster(
            s_x[~valid], s_y[~valid], s_x[valid], s_y[valid], S_LEARNER_PARAMS, s_categorical,
            seed + k,
        )  # fmt: skip
        none = _predict(model, _with_action(data.x, 0.0))
        for i, action in enumerate(actions, start=1):
            treated = _predict(model, _with_action(data.x, float(i)))
            uplift[action] += (none - treated) / S_LEARNER_FOLDS
    return uplift


def fit_uplift(
    data: UpliftData,
    mu0: Callable[[FloatArray], FloatArray],
    seed: int,
    min_rows: int = 1000,
    min_events: int = 50,
    progress: Callable[[str], None] = lambda _: None,
    price_mu0: Mapping[str, FloatArray] | None = None,
    modifiers: Mapping[str, Collection[int]] | None = None,
) -> UpliftFit:
    """Fit one distilled uplift regressor per action with enough data. ``price_mu0``: per
    price action, μ0 of every data row at the premium that action offers; ``modifiers``:
    per action, the indices of the features it is declared to act through (the offset
    learner's per-action stage penalises them less, training/models/additive.py)."""
    actions, skipped, counts = eligible_actions(data, min_rows, min_events)
    if not actions:
        return UpliftFit({}, skipped, counts)
    s_uplift = fit_s_learner_uplift(data, actions, seed, progress)
    mu0_all = mu0(data.x)
    progress("uplift: log-odds offset learner (shared contact stage, then per action)")
    offset = fit_offset_uplift(data, mu0_all, actions, seed, modifiers).uplift(data.x, mu0_all)

    models: dict[str, lgb.Booster] = {}
    for i, action in enumerate(actions, start=1):
        progress(f"uplift: distilling {action}")
        target = S_LEARNER_WEIGHT * s_uplift[action] + (1.0 - S_LEARNER_WEIGHT) * offset[action]
        if price_mu0 is not None and action in price_mu0:
            price = mu0_all - price_mu0[action]
            target = (1.0 - PRICE_RESPONSE_WEIGHT) * target + PRICE_RESPONSE_WEIGHT * price
        models[action] = _distill(data.x, target, data.categorical, seed + 100 + i)
    return UpliftFit(models, skipped, counts)
