"""MLflow tracking and registry: log, register, resolve every kind of REF, promote."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

from engine.errors import ModelNotFound
from engine.scoring.bundle import ModelBundle
from engine.scoring.registry import resolve_bundle
from training.pipeline import TrainResult
from training.registry import LoggedRun, log_training_run, promote, signature_sample


def _log(trained: TrainResult, book: pd.DataFrame, register: bool = True) -> LoggedRun:
    return log_training_run(
        trained.bundle,
        signature_sample(trained.bundle, book),
        "tests",
        trained.params,
        trained.evaluation.metrics,
        [],
        register,
    )


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    return uri


@pytest.mark.slow
def test_register_resolve_and_promote(
    tracking: str, trained: TrainResult, small_book: pd.DataFrame, tmp_path: Path
) -> None:
    first = _log(trained, small_book)
    second = _log(trained, small_book)
    assert (first.version, second.version) == ("1", "2")
    with pytest.raises(ModelNotFound, match="champion"):
        resolve_bundle("champion", cache_dir=tmp_path)
    promote("2", "champion")
    expected = trained.bundle.score_frame(small_book.head(50))
    for ref in ("champion", "2", "1", first.run_id, first.model_uri, str(trained.bundle.path)):
        bundle = ModelBundle.load(resolve_bundle(ref, cache_dir=tmp_path))
        pd.testing.assert_frame_equal(bundle.score_frame(small_book.head(50)), expected)
    with pytest.raises(ModelNotFound, match="no version '9'"):
        promote("9", "champion")
    for unknown in ("challenger", "17", "0123456789abcdef0123456789abcdef", "/no/such/dir"):
        with pytest.raises(ModelNotFound):
            resolve_bundle(unknown, cache_dir=tmp_path)


@pytest.mark.slow
def test_a_parameter_longer_than_mlflow_stores_is_cut_not_fatal(
    tracking: str, trained: TrainResult, small_book: pd.DataFrame
) -> None:
    long = "payment_plan: " + ", ".join(f"feature_{i}" for i in range(2_000))
    logged = log_training_run(
        trained.bundle, signature_sample(trained.bundle, small_book), "tests",
        {**trained.params, "uplift_modifiers": long}, trained.evaluation.metrics, [], True,
    )  # fmt: skip
    assert logged.version == "1"
    stored = MlflowClient().get_run(logged.run_id).data.params["uplift_modifiers"]
    assert len(stored) <= MAX_PARAM_VAL_LENGTH
    assert stored.startswith("payment_plan: feature_0, feature_1")
    assert stored.endswith("(truncated)")


@pytest.mark.slow
def test_pyfunc_model_loads_from_code_and_predicts(
    tracking: str, trained: TrainResult, small_book: pd.DataFrame
) -> None:
    import mlflow

    logged = _log(trained, small_book, register=False)
    assert logged.version is None
    model = mlflow.pyfunc.load_model(logged.model_uri)
    sample = signature_sample(trained.bundle, small_book, rows=20)
    scores = model.predict(sample)
    pd.testing.assert_frame_equal(scores.reset_index(drop=True), trained.bundle.score_frame(sample))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_works_against_a_real_mlflow_server(
    trained: TrainResult, small_book: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
            "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
            "--artifacts-destination", str(tmp_path / "artifacts"), "--workers", "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "MLFLOW_TRACKING_URI": ""},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, "mlflow server exited"
                assert time.monotonic() < deadline, "mlflow server did not start"
                time.sleep(0.5)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{port}")
        monkeypatch.chdir(tmp_path)
        logged = _log(trained, small_book)
        promote(str(logged.version), "champion")
        bundle = ModelBundle.load(resolve_bundle("champion", cache_dir=tmp_path))
        assert bundle.manifest.data_fingerprint == trained.bundle.manifest.data_fingerprint
    finally:
        server.terminate()
        server.wait(timeout=30)
