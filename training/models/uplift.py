"""Per-action uplift: how much each past-campaign action lowers a customer's churn.

Trained only on the campaign's randomised history (``treatment`` / ``outcome``) plus the
customers who received no action. Two meta-learners are combined, because on data of this
size each is noisy in its own way (measured in ``bench/train.py``):

- an **S-learner**: one LightGBM churn model over all rows with the action as a categorical
  feature; uplift = p(x, no action) − p(x, action). It pools the actions, so shared effects
  (contact itself) are learned from every treated customer.
- an **X-learner** (Künzel et al. 2019) per action, with the churn model as the
  no-action response: imputed effects ``μ0(x) − Y`` on treated customers and ``Y − μa(x)``
  on untreated ones, each regressed on x, averaged.

The average of the two is then **distilled** into one LightGBM regressor per action, so
serving costs one model call per action instead of a dozen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import numpy.typing as npt

from training.models.boosting import (
    DISTILL_PARAMS,
    EFFECT_PARAMS,
    RESPONSE_PARAMS,
    S_LEARNER_PARAMS,
    fit_booster,
    split_mask,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

METHOD = "S-learner + X-learner average, distilled per action (LightGBM)"


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


def _fit_regressor(
    x: FloatArray, target: FloatArray, categorical: Sequence[int], seed: int, distill: bool
) -> lgb.Booster:
    valid = split_mask(len(x), 0.2, seed)
    params = DISTILL_PARAMS if distill else EFFECT_PARAMS
    return fit_booster(
        x[~valid], target[~valid], x[valid], target[valid], params, categorical, seed
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


def fit_uplift(
    data: UpliftData,
    mu0: Callable[[FloatArray], FloatArray],
    seed: int,
    min_rows: int = 1000,
    min_events: int = 50,
    progress: Callable[[str], None] = lambda _: None,
) -> UpliftFit:
    """Fit one distilled uplift regressor per action with enough data."""
    actions, skipped, counts = eligible_actions(data, min_rows, min_events)
    if not actions:
        return UpliftFit({}, skipped, counts)
    untreated = np.array([a is None for a in data.arm])
    known = untreated | np.isin(data.arm, actions)
    codes = np.zeros(len(data.y))
    for i, action in enumerate(actions, start=1):
        codes[data.arm == action] = i
    s_categorical = [*data.categorical, data.x.shape[1]]

    progress("uplift: S-learner over all actions")
    s_x, s_y = _with_action(data.x[known], codes[known]), data.y[known]
    valid = split_mask(len(s_y), 0.2, seed + 1)
    s_model = fit_booster(
        s_x[~valid], s_y[~valid], s_x[valid], s_y[valid], S_LEARNER_PARAMS, s_categorical, seed
    )
    s_none = _predict(s_model, _with_action(data.x, 0.0))
    mu0_all = mu0(data.x)

    models: dict[str, lgb.Booster] = {}
    for i, action in enumerate(actions, start=1):
        progress(f"uplift: {action}")
        treated = data.arm == action
        valid = split_mask(int(treated.sum()), 0.2, seed + 2 + i)
        xt, yt = data.x[treated], data.y[treated]
        mu_a = _predict(
            fit_booster(
                xt[~valid],
                yt[~valid],
                xt[valid],
                yt[valid],
                RESPONSE_PARAMS,
                data.categorical,
                seed,
            ),
            data.x,
        )
        tau1 = _fit_regressor(xt, mu0_all[treated] - yt, data.categorical, seed + i, False)
        imputed = data.y[untreated] - mu_a[untreated]
        tau0 = _fit_regressor(data.x[untreated], imputed, data.categorical, seed + i, False)
        x_learner = 0.5 * _predict(tau1, data.x) + 0.5 * _predict(tau0, data.x)
        s_learner = s_none - _predict(s_model, _with_action(data.x, float(i)))
        target = 0.5 * s_learner + 0.5 * x_learner
        models[action] = _fit_regressor(data.x, target, data.categorical, seed + 100 + i, True)
    return UpliftFit(models, skipped, counts)
