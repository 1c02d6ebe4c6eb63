"""Evaluating a model bundle on a contract-checked table: the same metrics for any bundle.

Used by training (on its held-out rows) and by ``retention evaluate`` (challenger against
champion on the same data). Churn is judged on customers who received no action; uplift on
the campaign's randomised arms (each action against control).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.scoring.bundle import ModelBundle
from training.contract import ContractTable
from training.evaluation.metrics import (
    Z95,
    Curve,
    calibration_table,
    classification_metrics,
    gains_curve,
    qini_coefficient,
    qini_curve,
    qini_interval,
    uplift_by_group,
    uplift_calibration,
)

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
QINI_SEED = 20_261_124
"""The bootstrap of each action's Qini interval: fixed, so the same data gives the same
interval (plus the action's position)."""


@dataclass
class Evaluation:
    """Headline metrics (flat names, ready for MLflow) and the curves behind the plots."""

    metrics: dict[str, float]
    y: FloatArray
    p_churn: FloatArray
    calibration: pd.DataFrame
    gains: Curve
    qini: dict[str, Curve] = field(default_factory=dict)
    uplift_groups: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Per action, observed against predicted effect by quintile of the predicted uplift."""


class SpreadVerdict(NamedTuple):
    confirmed: bool
    """The held-out campaign shows the model's differences between customers (slope > 0)."""
    text: str
    interval: str
    """The calibration slope and its 95 % half-width, e.g. ``1.00 ± 1.21``."""


def spread_verdict(metrics: Mapping[str, float], action: str) -> SpreadVerdict | None:
    """What the held-out campaign says about ``action``'s predicted differences between
    customers (the calibration slope's 95 % interval, ``uplift_calibration``), or None when
    the metrics hold no slope for it."""
    slope = metrics.get(f"uplift_slope__{action}")
    se = metrics.get(f"uplift_slope_se__{action}")
    if slope is None or se is None:
        return None
    low, high = slope - Z95 * se, slope + Z95 * se
    interval = f"{slope:.2f} ± {Z95 * se:.2f}"
    if low <= 0.0:
        text = "ranking not confirmed by the held-out campaign (too few customers to tell)"
        return SpreadVerdict(False, text, interval)
    size = "narrower than" if low > 1.0 else "wider than" if high < 1.0 else "about"
    text = f"ranking confirmed; predicted differences {size} the observed"
    return SpreadVerdict(True, text, interval)


def arms(table: ContractTable) -> npt.NDArray[np.object_]:
    """Each row's campaign arm: an action id, or None for control / not in the campaign."""
    column = table.column_for("treatment")
    if column is None:
        return np.full(len(table), None, dtype=object)
    treatment = table.contract.roles.treatment
    control = treatment.control if treatment else "control"
    values = table.frame[column].astype("object")
    return np.asarray(values.where(values.notna() & (values != control), None), dtype=object)


def control_rows(table: ContractTable) -> BoolArray:
    """Randomised control customers of the campaign (not customers outside it)."""
    column = table.column_for("treatment")
    treatment = table.contract.roles.treatment
    if column is None or treatment is None:
        return np.zeros(len(table), dtype=bool)
    return np.asarray(table.frame[column].astype("object") == treatment.control, dtype=bool)


def outcome(table: ContractTable) -> FloatArray:
    column = table.column_for("outcome")
    series = table.frame[column] if column else table.label
    return series.to_numpy(dtype=np.float64)


def evaluate_bundle(
    bundle: ModelBundle, table: ContractTable, rows: BoolArray | None = None
) -> Evaluation:
    """Metrics of ``bundle`` on ``table`` (restricted to ``rows`` when given)."""
    selected = np.ones(len(table), dtype=bool) if rows is None else rows
    arm = arms(table)
    no_action = np.array([a is None for a in arm], dtype=bool)
    untreated = selected & no_action
    y_all = table.label.to_numpy(dtype=np.float64)
    x = bundle.matrix(table.frame)
    p = bundle.p_churn(x[untreated])
    y = y_all[untreated]
    metrics = {f"churn_{k}": v for k, v in classification_metrics(y, p).items()}
    metrics["churn_rows"] = float(untreated.sum())

    qini: dict[str, Curve] = {}
    groups: dict[str, pd.DataFrame] = {}
    if bundle.uplift_models:
        control = selected & control_rows(table)
        y_out = outcome(table)
        uplift = bundle.uplift(x)
        # The churn model's no-action probability: a covariate that narrows the
        # calibration fit's interval (uplift_calibration).
        campaign = control | (selected & ~no_action)
        baseline = np.zeros(len(table))
        if campaign.any():
            baseline[campaign] = bundle.p_churn(x[campaign])
        for action, score in uplift.items():
            rows_a = control | (selected & (arm == action))
            treated = arm[rows_a] == action
            if treated.sum() == 0 or (~treated).sum() == 0:
                continue
            y_arm, s_arm = y_out[rows_a], score[rows_a]
            qini[action] = qini_curve(y_arm, treated, s_arm)
            metrics[f"qini__{action}"] = qini_coefficient(y_arm, treated, s_arm)
            low, high = qini_interval(y_arm, treated, s_arm, seed=QINI_SEED + len(qini))
            metrics[f"qini_low__{action}"], metrics[f"qini_high__{action}"] = low, high
            metrics[f"uplift_mean__{action}"] = float(score[selected].mean())
            # What the held-out campaign says the average effect was (control churn rate −
            # treated churn rate): the check of the predicted magnitude on real data. Noisy:
            # its standard error is about sqrt(2·p(1−p)/n) for n customers per arm.
            metrics[f"uplift_observed__{action}"] = float(
                y_arm[~treated].mean() - y_arm[treated].mean()
            )
            fit = uplift_calibration(y_arm, treated, s_arm, baseline[rows_a])
            metrics[f"uplift_slope__{action}"] = fit.slope
            metrics[f"uplift_slope_se__{action}"] = fit.slope_se
            groups[action] = uplift_by_group(y_arm, treated, s_arm)
    return Evaluation(
        metrics=metrics,
        y=y,
        p_churn=p,
        calibration=calibration_table(y, p),
        gains=gains_curve(y, p),
        qini=qini,
        uplift_groups=groups,
    )
