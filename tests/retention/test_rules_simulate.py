"""`retention rules simulate | diff`: JSON on stdout, charts, one clear error and exit 2."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retention.commands.rules import rules_app
from training.contract import CONTRACTS_DIR, load_contract, load_table
from training.pipeline import TrainConfig, train
from training.synth import generate_book

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "rules" / "retention.yaml"
NOW = ["--now", "2026-11-23"]
runner = CliRunner()


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-simulate") / "book.parquet"
    generate_book(5000, seed=5).to_parquet(path, index=False)
    return path


@pytest.fixture(scope="module")
def bundle(book: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    table = load_table(book, load_contract(CONTRACTS_DIR / "insurance_book.yaml"))
    out = tmp_path_factory.mktemp("cli-simulate-bundle") / "bundle"
    train(table, out, TrainConfig(min_action_rows=300))
    return out


def _simulate(*args: str) -> list[str]:
    return ["simulate", "--rules", str(DEMO), *NOW, *args]


def test_json_is_the_only_output_on_stdout(book: Path, bundle: Path, tmp_path: Path) -> None:
    charts = tmp_path / "charts"
    args = _simulate("--data", str(book), "--model", str(bundle), "--json", "--plots", str(charts))
    result = runner.invoke(rules_app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    for name in ("engine", "no_action", "top_decile_discount_10", "cheapest_offer", "oracle"):
        for key in ("contacts", "cost", "expected_net_value", "true_net_value"):
            assert key in report["policies"][name], (name, key)
    for name in ("engine", "approve_all"):
        for key in ("customers_kept", "premium_income", "true_net_value"):
            assert key in report["renewals"][name], (name, key)
    assert report["allocation"] == "shadow_price"
    assert set(report["shadow_prices"]) == set(report["budgets"])
    assert "oracle_shadow_price" in report["policies"]
    assert sorted(p.name for p in charts.glob("*.png")) == [
        "action_mix_by_segment.png",
        "renewal_money.png",
        "value_by_policy.png",
    ]


def test_tables_without_json(book: Path, bundle: Path) -> None:
    result = runner.invoke(rules_app, _simulate("--data", str(book), "--model", str(bundle)))
    assert result.exit_code == 0, result.output
    assert "oracle" in result.stdout
    assert "approve_all" in result.stdout
    words = " ".join(result.stdout.split())
    assert re.search(r"engine's true net value: -?\d+\.\d\d× top_decile_discount_10, "
                     r"-?\d+\.\d% of oracle, -?\d+\.\d% of oracle_within_rules", words)  # fmt: skip


def test_diff_of_a_file_with_itself(book: Path, bundle: Path) -> None:
    args = ["diff", str(DEMO), str(DEMO), "--data", str(book), "--model", str(bundle), *NOW]
    result = runner.invoke(rules_app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["changed"] == 0
    assert report["transitions"] == []
    result = runner.invoke(rules_app, args)
    assert result.exit_code == 0, result.output
    assert f"0 of {5000:,} decisions change" in result.stdout


def _fails(args: list[str], message: str) -> None:
    result = runner.invoke(rules_app, args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stderr.count("error:") == 1
    assert "Traceback" not in result.output


def test_a_missing_book_is_one_clear_error(bundle: Path, tmp_path: Path) -> None:
    missing = tmp_path / "none.parquet"
    _fails(_simulate("--data", str(missing), "--model", str(bundle)), "no such file")


def test_a_missing_rule_file_is_one_clear_error(book: Path, bundle: Path, tmp_path: Path) -> None:
    args = ["diff", str(DEMO), str(tmp_path / "none.yaml"), "--data", str(book)]
    _fails([*args, "--model", str(bundle)], "no such file")


def test_an_unknown_model_is_one_clear_error(book: Path, tmp_path: Path) -> None:
    not_a_bundle = tmp_path / "empty"
    not_a_bundle.mkdir()
    _fails(_simulate("--data", str(book), "--model", str(not_a_bundle)), "no model bundle there")


def test_an_unknown_alias_is_one_clear_error(
    book: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    _fails(_simulate("--data", str(book), "--model", "no-such-alias"), "unknown model reference")


def test_a_book_without_required_columns_is_one_clear_error(
    book: Path, bundle: Path, tmp_path: Path
) -> None:
    import pandas as pd

    broken = tmp_path / "broken.parquet"
    pd.read_parquet(book).drop(columns=["proposed_premium"]).to_parquet(broken)
    _fails(_simulate("--data", str(broken), "--model", str(bundle)), "proposed_premium")
