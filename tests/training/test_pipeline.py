"""`training.pipeline.train`: a real (small) training run, its bundle, and its refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.errors import TrainingError
from engine.scoring.bundle import ModelBundle
from training.contract import ContractTable, parse_contract, validate_frame
from training.pipeline import TrainConfig, TrainResult, train
from training.synth import ACTIONS

TELECOM_CONTRACT = {
    "name": "telecom",
    "columns": {
        "customerID": {"kind": "string"},
        "Churn": {"kind": "boolean", "true_values": "Yes"},
        "Contract": {"kind": "categorical"},
        "InternetService": {"kind": "categorical"},
        "tenure": {"kind": "integer", "min": 0},
        "MonthlyCharges": {"kind": "float", "min": 0},
        "TotalCharges": {"kind": "float", "min": 0, "nullable": True},
    },
    "roles": {
        "id": "customerID",
        "label": "Churn",
        "features": ["Contract", "InternetService", "tenure", "MonthlyCharges", "TotalCharges"],
    },
}


def telecom_table(n: int = 4_000, seed: int = 0) -> ContractTable:
    """A telecom-shaped table with a learnable churn signal and a few blank charges."""
    rng = np.random.default_rng(seed)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.55, 0.25, 0.2])
    internet = rng.choice(["DSL", "Fiber optic", "No"], n)
    tenure = rng.integers(0, 72, n)
    monthly = rng.uniform(20, 110, n).round(2)
    logit = (
        -1.0
        + 1.5 * (contract == "Month-to-month")
        - 0.04 * tenure
        + 0.6 * (internet == "Fiber optic")
    )
    churn = rng.random(n) < 1 / (1 + np.exp(-logit))
    total = (monthly * tenure).round(2).astype(object)
    total[rng.choice(n, 10, replace=False)] = None
    frame = pd.DataFrame(
        {
            "customerID": [f"{i:04d}-TEL" for i in range(n)],
            "Churn": np.where(churn, "Yes", "No"),
            "Contract": contract,
            "InternetService": internet,
            "tenure": tenure,
            "MonthlyCharges": monthly,
            "TotalCharges": total,
            "PaperlessBilling": "Yes",  # not in the contract: ignored
        }
    )
    return validate_frame(frame, parse_contract(TELECOM_CONTRACT))


def test_trains_every_part_on_the_insurance_book(trained: TrainResult) -> None:
    manifest = trained.bundle.manifest
    assert manifest.calibrator.kind in {"isotonic", "platt"}
    assert manifest.value is not None
    assert manifest.uplift is not None
    assert sorted(manifest.uplift.models) == sorted(ACTIONS)
    assert trained.evaluation.metrics["churn_roc_auc"] > 0.7
    assert set(manifest.features.derived) == {"price_change", "price_to_new_business"}
    assert "noise_1" in manifest.features.names
    # the contract's declared effect modifiers reach the uplift learner and the run's params
    assert "payment_plan: late_payments_12m" in str(trained.params["uplift_modifiers"])


def test_loaded_bundle_scores_exactly_like_the_trained_one(
    trained: TrainResult, small_book: pd.DataFrame
) -> None:
    again = ModelBundle.load(trained.bundle.path)
    scores = again.score_frame(small_book.head(500))
    direct = trained.bundle.score_frame(small_book.head(500))
    pd.testing.assert_frame_equal(scores, direct)
    assert list(scores.columns[:5]) == ["customer_id", "p_churn", "margin", "clv", "expected_clv"]
    assert scores["p_churn"].between(0, 1).all()
    np.testing.assert_allclose(scores["expected_clv"], (1 - scores["p_churn"]) * scores["clv"])


def test_uplift_has_both_signs_and_price_actions_help_on_average(
    trained: TrainResult, small_book: pd.DataFrame
) -> None:
    uplift = trained.bundle.uplift(trained.bundle.matrix(small_book))
    assert uplift["premium_freeze"].mean() > 0
    assert any((u < 0).any() for u in uplift.values())
    metrics = trained.evaluation.metrics
    for action in ACTIONS:  # the held-out campaign's own estimate of the average effect
        assert abs(metrics[f"uplift_observed__{action}"]) < 0.2


def test_same_data_and_seed_give_the_same_metrics(
    small_table: ContractTable, trained: TrainResult, small_config: TrainConfig, tmp_path: Path
) -> None:
    again = train(small_table, tmp_path / "bundle", small_config)
    for name, value in trained.evaluation.metrics.items():
        assert again.evaluation.metrics[name] == pytest.approx(value, abs=1e-6), name


def test_telecom_table_trains_churn_and_says_what_was_skipped(tmp_path: Path) -> None:
    result = train(telecom_table(), tmp_path / "bundle", TrainConfig(seed=1))
    manifest = result.bundle.manifest
    assert manifest.uplift is None
    assert manifest.value is None
    assert "no treatment column" in manifest.skipped["uplift"]
    assert "no margin" in manifest.skipped["value"]
    assert any("uplift skipped" in note for note in result.notes)
    assert result.evaluation.metrics["churn_roc_auc"] > 0.7
    assert manifest.features.derived == ()
    assert result.params["uplift_modifiers"] == "none"


@pytest.mark.slow
def test_modifiers_declared_for_an_action_nobody_received_are_noted(
    small_book: pd.DataFrame,
    small_table: ContractTable,
    small_config: TrainConfig,
    trained: TrainResult,
    tmp_path: Path,
) -> None:
    # every declared action is in the full book: nothing to say there
    assert not any("effect modifiers declared" in note for note in trained.notes)
    without = small_book[small_book["treatment"] != "payment_plan"].reset_index(drop=True)
    table = validate_frame(without, small_table.contract)
    result = train(table, tmp_path / "bundle", small_config)
    assert any(
        note.startswith("uplift payment_plan: effect modifiers declared, but no customer")
        for note in result.notes
    )


def test_one_class_label_is_refused(tmp_path: Path) -> None:
    table = telecom_table()
    frame = table.frame.copy()
    frame["Churn"] = 0
    one_class = ContractTable(frame=frame, contract=table.contract, source="test")
    with pytest.raises(TrainingError, match="one class only"):
        train(one_class, tmp_path / "bundle", TrainConfig())


def test_too_few_rows_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="too few rows"):
        train(telecom_table(n=150), tmp_path / "bundle", TrainConfig())


def test_each_actions_qini_comes_with_its_interval_and_the_report_says_what_it_means(
    trained: TrainResult, tmp_path: Path
) -> None:
    from training.evaluation.report import write_html

    metrics = trained.evaluation.metrics
    actions = [name.removeprefix("qini__") for name in metrics if name.startswith("qini__")]
    assert actions
    for action in actions:
        low, high = metrics[f"qini_low__{action}"], metrics[f"qini_high__{action}"]
        assert low <= metrics[f"qini__{action}"] <= high
    page = write_html(tmp_path / "r.html", "t", {"model": metrics}, {}).read_text()
    assert "Uplift rankings" in page
    assert page.count("better than random") + page.count("not distinguishable") == len(actions)


def test_each_action_gets_an_uplift_calibration_and_unconfirmed_rankings_are_noted(
    trained: TrainResult, tmp_path: Path
) -> None:
    from training.evaluation.bundle_eval import spread_verdict
    from training.evaluation.metrics import Z95
    from training.evaluation.report import write_html, write_plots

    evaluation = trained.evaluation
    metrics = evaluation.metrics
    actions = sorted(name.removeprefix("qini__") for name in metrics if name.startswith("qini__"))
    assert sorted(evaluation.uplift_groups) == actions
    unconfirmed = []
    for action in actions:
        slope, se = metrics[f"uplift_slope__{action}"], metrics[f"uplift_slope_se__{action}"]
        assert np.isfinite(slope)
        assert se > 0
        groups = evaluation.uplift_groups[action]
        assert 2 <= len(groups) <= 5
        assert groups["mean_predicted"].is_monotonic_increasing
        verdict = spread_verdict(metrics, action)
        assert verdict is not None
        assert verdict.confirmed == (slope - Z95 * se > 0)
        if not verdict.confirmed:
            unconfirmed.append(action)
    noted = [
        a for a in actions if any(n.startswith(f"uplift {a}: ranking not") for n in trained.notes)
    ]
    assert noted == unconfirmed
    plots = write_plots(evaluation, trained.bundle, tmp_path / "report")
    for action in actions:
        assert plots[f"uplift_calibration__{action}"].read_bytes()[:4] == b"\x89PNG"
    page = write_html(tmp_path / "r.html", "t", {"model": metrics}, plots).read_text()
    assert page.count("ranking confirmed") + page.count("ranking not confirmed") == len(actions)
