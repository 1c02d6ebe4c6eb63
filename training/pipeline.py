"""`retention train` as a function: contract-checked table in, model bundle and report out.

Steps: split (test rows held out for the report) → features → churn model with early
stopping → calibration chosen on validation rows → value model → per-action uplift →
bundle on disk → evaluation on the test rows. Every step is seeded; the same data and seed
give the same metrics.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import lightgbm as lgb
import numpy as np
import numpy.typing as npt

import engine
from engine.errors import TrainingError
from engine.features import FeatureSpec, build_matrix
from engine.scoring.bundle import BundleManifest, ModelBundle, UpliftSpec, save_bundle
from training.contract import ContractTable, Role
from training.evaluation.bundle_eval import (
    Evaluation,
    arms,
    evaluate_bundle,
    outcome,
    spread_verdict,
)
from training.models.boosting import CHURN_PARAMS, fit_booster, split_mask
from training.models.calibration import choose_calibrator
from training.models.uplift import METHOD, UpliftData, fit_uplift
from training.models.value import fit_value_model

FloatArray = npt.NDArray[np.float64]

MIN_TRAIN_ROWS = 200
MIN_CLASS_ROWS = 20


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 7
    test_share: float = 0.3
    valid_share: float = 0.2
    horizon_years: int = 5
    discount_rate: float = 0.08
    min_action_rows: int = 1000
    min_action_events: int = 50


@dataclass
class TrainResult:
    bundle: ModelBundle
    evaluation: Evaluation
    test_rows: npt.NDArray[np.bool_]
    params: dict[str, str | float | int]
    notes: list[str] = field(default_factory=list)


def _check_trainable(y: FloatArray, where: str) -> None:
    positives = int(y.sum())
    negatives = len(y) - positives
    if len(y) < MIN_TRAIN_ROWS:
        raise TrainingError(f"too few rows to train on: {len(y)} {where} (need {MIN_TRAIN_ROWS})")
    if positives == 0 or negatives == 0:
        only = "churned" if negatives == 0 else "stayed"
        raise TrainingError(f"the label has one class only: every one of {len(y)} {where} {only}")
    if min(positives, negatives) < MIN_CLASS_ROWS:
        raise TrainingError(
            f"too few rows of one class: {positives} churned and {negatives} stayed {where} "
            f"(need {MIN_CLASS_ROWS} of each)"
        )


def train(
    table: ContractTable,
    out_dir: Path,
    config: TrainConfig = TrainConfig(),
    progress: Callable[[str], None] = lambda _: None,
) -> TrainResult:
    """Train every model the table supports and write the bundle to ``out_dir``."""
    seed = config.seed
    price_roles: tuple[Role, ...] = ("premium", "proposed_premium", "new_business_premium")
    roles: dict[str, str | None] = {role: table.column_for(role) for role in price_roles}
    spec = FeatureSpec.fit(table.frame, table.numeric_features, table.categorical_features, roles)
    progress(f"features: {len(spec.names)} ({', '.join(spec.derived) or 'none'} derived)")
    x = build_matrix(table.frame, spec)
    y = table.label.to_numpy(dtype=np.float64)
    arm = arms(table)
    untreated = np.array([a is None for a in arm])
    test = split_mask(len(y), config.test_share, seed)
    train_rows = ~test
    churn_rows = train_rows & untreated
    _check_trainable(y[churn_rows], "untreated training rows")
    _check_trainable(y[test & untreated], "untreated test rows")

    progress(f"churn model: {int(churn_rows.sum()):,} training rows")
    xc, yc = x[churn_rows], y[churn_rows]
    valid = split_mask(len(yc), config.valid_share, seed + 1)
    churn = fit_booster(
        xc[~valid], yc[~valid], xc[valid], yc[valid], CHURN_PARAMS, spec.categorical_indices, seed
    )
    raw_valid = np.asarray(churn.predict(xc[valid]), dtype=np.float64)
    calibrator, calibration_losses = choose_calibrator(raw_valid, yc[valid], seed)
    progress(f"calibration: {calibrator.kind} (out-of-fold log-loss {calibration_losses})")

    skipped: dict[str, str] = {}
    value, value_note = fit_value_model(
        table, churn_rows, config.horizon_years, config.discount_rate
    )
    if value is None:
        skipped["value"] = value_note

    uplift_spec, uplift_models = None, {}
    if table.column_for("treatment") is None:
        skipped["uplift"] = "the contract maps no treatment column (no campaign history)"
    else:
        data = UpliftData(
            x=x[train_rows], y=outcome(table)[train_rows], arm=arm[train_rows],
            categorical=spec.categorical_indices,
        )  # fmt: skip
        modifiers = effect_modifiers(table, spec)
        if modifiers:
            progress(f"uplift: declared effect modifiers ({modifiers_text(table)})")
        fit = fit_uplift(
            data,
            lambda m: np.asarray(churn.predict(m), dtype=np.float64),
            seed,
            config.min_action_rows,
            config.min_action_events,
            progress,
            price_mu0=price_responses(table, spec, train_rows, churn),
            modifiers=modifiers,
        )
        skipped.update({f"uplift__{a}": reason for a, reason in fit.skipped.items()})
        if fit.models:
            uplift_models = fit.models
            uplift_spec = UpliftSpec(
                method=METHOD, models={a: f"uplift__{a}.txt" for a in fit.models}
            )
        elif not fit.skipped:
            skipped["uplift"] = "no campaign actions in the table"

    manifest = BundleManifest(
        contract=table.contract.name,
        id_column=table.contract.roles.id,
        data_fingerprint=table.fingerprint,
        seed=seed,
        features=spec,
        calibrator=calibrator,
        uplift=uplift_spec,
        value=value,
        skipped=skipped,
        versions={
            "engine": engine.__version__,
            "lightgbm": lgb.__version__,
            "python": platform.python_version(),
        },
    )
    save_bundle(out_dir, manifest, churn, uplift_models)
    bundle = ModelBundle.load(out_dir)
    progress("evaluating on the held-out test rows")
    evaluation = evaluate_bundle(bundle, table, test)
    params: dict[str, str | float | int] = {
        "seed": seed,
        "test_share": config.test_share,
        "rows": len(y),
        "churn_trees": churn.num_trees(),
        "calibration": calibrator.kind,
        "features": len(spec.names),
        "uplift_method": METHOD if uplift_models else "none",
        "uplift_actions": ",".join(uplift_models) or "none",
        "uplift_modifiers": modifiers_text(table) or "none",
        "horizon_years": config.horizon_years,
        "discount_rate": config.discount_rate,
        "data_fingerprint": table.fingerprint,
        "contract": table.contract.name,
    }
    notes = [f"{part} skipped: {reason}" for part, reason in skipped.items()]
    for action in uplift_models:
        spread = spread_verdict(evaluation.metrics, action)
        if spread is not None and not spread.confirmed:
            notes.append(
                f"uplift {action}: {spread.text}: calibration slope {spread.interval}; "
                "its ranking is modelled but unproven on this data"
            )
    treatment = table.contract.roles.treatment
    received = {str(a) for a in arm if a is not None}
    for action in treatment.modifiers if treatment is not None else {}:
        if action not in received:
            notes.append(
                f"uplift {action}: effect modifiers declared, but no customer in the table "
                "received it: the declaration is unused"
            )
    if value is not None:
        notes.append(f"value: {value_note}")
    return TrainResult(bundle, evaluation, test, params, notes)


def effect_modifiers(table: ContractTable, spec: FeatureSpec) -> dict[str, list[int]]:
    """Per action, the feature-matrix indices of the features the contract declares it
    acts through (``roles.treatment.modifiers``; validated against ``roles.features``)."""
    treatment = table.contract.roles.treatment
    if treatment is None:
        return {}
    names = list(spec.names)
    return {
        action: [names.index(name) for name in features]
        for action, features in treatment.modifiers.items()
    }


def modifiers_text(table: ContractTable) -> str:
    """The contract's effect-modifier declarations in one line (empty when none)."""
    treatment = table.contract.roles.treatment
    if treatment is None:
        return ""
    return "; ".join(f"{a}: {', '.join(names)}" for a, names in treatment.modifiers.items())


def price_responses(
    table: ContractTable, spec: FeatureSpec, rows: npt.NDArray[np.bool_], churn: lgb.Booster
) -> dict[str, npt.NDArray[np.float64]]:
    """Per price action the contract declares, the churn model's (uncalibrated, like the
    uplift learners' μ0) probability for ``rows`` at the premium that action would offer."""
    treatment = table.contract.roles.treatment
    premium_column = table.column_for("premium")
    proposed_column = table.column_for("proposed_premium")
    if treatment is None or premium_column is None or proposed_column is None:
        return {}
    frame = table.frame.loc[rows]
    premium = frame[premium_column].to_numpy(dtype=np.float64)
    proposed = frame[proposed_column].to_numpy(dtype=np.float64)
    out = {}
    for action, change in treatment.prices.items():
        if change.freeze:
            offered = np.minimum(proposed, premium)
        else:
            offered = proposed * (1.0 - float(change.discount or 0.0))
        x = build_matrix(frame, spec, offered_premium=offered)
        out[action] = np.asarray(churn.predict(x), dtype=np.float64)
    return out
