"""`retention train / evaluate / promote / score` end to end on a small book."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.scoring import compiled
from retention.cli import app
from training.synth import generate_book

runner = CliRunner()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models-cli")
    generate_book(12_000, seed=5).to_parquet(root / "book.parquet")
    return root


@pytest.fixture(autouse=True)
def in_workdir(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{workdir / 'mlflow.db'}")


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.mark.slow
def test_train_register_promote_evaluate_score(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = workdir / "compiled"
    monkeypatch.setenv(compiled.CACHE_ENV, str(cache))
    code, out = _run(
        "train", "--data", "book.parquet", "--register", "--out", "trained",
        "--min-action-rows", "200",
    )  # fmt: skip
    assert code == 0, out
    assert "registered: retention-bundle version 1" in out
    # every model of the bundle is already compiled for batch scoring on this machine
    bundle = workdir / "trained" / "bundle"
    if compiled.cache_key(b"") is not None:  # lleaves installed (a core dependency)
        models = [bundle / "churn.txt", *bundle.glob("uplift__*.txt")]
        keys = {compiled.cache_key(m.read_bytes()) for m in models}
        assert keys <= {f.name for f in cache.iterdir()}
    assert "churn_roc_auc" in out
    assert (workdir / "trained" / "report" / "report.html").stat().st_size > 10_000
    assert (workdir / "trained" / "report" / "calibration.png").exists()

    code, out = _run("promote", "1")
    assert code == 0, out
    assert "champion -> version 1" in out

    code, out = _run("evaluate", "--data", "book.parquet", "--against", "trained/bundle")
    assert code == 0, out
    assert "churn_roc_auc" in out
    assert "trained/bundle" in out
    words = " ".join(out.split())
    assert "champion was trained on this table" in words
    assert "trained/bundle was trained on this table" in words
    generate_book(3_000, seed=6).to_parquet(workdir / "other.parquet")
    code, out = _run("evaluate", "--data", "other.parquet")
    assert code == 0, out
    assert "trained on this table" not in " ".join(out.split())

    code, out = _run("score", "--data", "book.parquet", "--out", "scores.csv")
    assert code == 0, out
    scores = pd.read_csv(workdir / "scores.csv")
    assert len(scores) == 12_000
    assert {"customer_id", "p_churn", "clv", "uplift__premium_freeze"} <= set(scores.columns)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("train", "--data", "missing.parquet"), "missing.parquet"),
        (("score", "--data", "book.parquet", "--out", "s.csv", "--model", "nosuch"), "nosuch"),
        (("evaluate", "--data", "book.parquet", "--model", "41"), "41"),
        (("promote", "41"), "no version '41'"),
    ],
)
def test_bad_input_is_one_clear_error(args: tuple[str, ...], message: str) -> None:
    code, out = _run(*args)
    assert code == 2, out
    assert message in out
    assert "Traceback" not in out


def test_table_that_breaks_the_contract_is_refused(workdir: Path) -> None:
    book = generate_book(500, seed=1).drop(columns=["satisfaction"])
    book.loc[3, "age"] = 7
    book.to_csv(workdir / "broken.csv", index=False)
    code, out = _run("train", "--data", "broken.csv")
    assert code == 2, out
    assert "satisfaction" in out
    assert "'age'" in out


def test_failed_training_registers_nothing(workdir: Path) -> None:
    book = generate_book(2_000, seed=2)
    book["churned"] = 0
    book.to_parquet(workdir / "one_class.parquet")
    code, out = _run("train", "--data", "one_class.parquet", "--register", "--experiment", "x")
    assert code == 2, out
    assert "one class only" in out
    import mlflow
    from mlflow.exceptions import MlflowException

    mlflow.set_tracking_uri(f"sqlite:///{workdir / 'mlflow.db'}")
    try:
        experiment = mlflow.get_experiment_by_name("x")
    except MlflowException:
        experiment = None
    assert experiment is None
