"""Logging a training run to MLflow and registering its bundle; promoting versions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

from engine.errors import ModelNotFound, RegistryError
from engine.scoring.bundle import ModelBundle
from engine.scoring.pyfunc import ARTIFACT_KEY, ENTRY_POINT
from engine.scoring.registry import MODEL_ARTIFACT, REGISTERED_MODEL, first_line, use_tracking


@dataclass(frozen=True)
class LoggedRun:
    run_id: str
    model_uri: str
    version: str | None


def signature_sample(bundle: ModelBundle, frame: pd.DataFrame, rows: int = 200) -> pd.DataFrame:
    """Raw input columns as a caller sends them: the id, features and price columns."""
    columns = [bundle.manifest.id_column, *bundle.features.raw_columns]
    sample = frame[columns].head(rows).copy()
    for column in sample.columns:
        if isinstance(sample[column].dtype, pd.CategoricalDtype):
            sample[column] = sample[column].astype(str)
    return sample


def _fit_param(value: str | float | int) -> str | float | int:
    """``value``, cut to what MLflow stores for a parameter (a long contract declaration,
    e.g. many effect modifiers, must not fail a finished training run)."""
    if isinstance(value, str) and len(value) > MAX_PARAM_VAL_LENGTH:
        marker = " … (truncated)"
        return value[: MAX_PARAM_VAL_LENGTH - len(marker)] + marker
    return value


def log_training_run(
    bundle: ModelBundle,
    sample: pd.DataFrame,
    experiment: str,
    params: dict[str, str | float | int],
    metrics: dict[str, float],
    artifacts: list[Path],
    register: bool,
) -> LoggedRun:
    """Log params, metrics, plots, report and the bundle; register it last.

    Registration is the final step, after everything else is logged, so a failure leaves a
    failed run and no registered version — never a version pointing at a partial model.
    """
    try:
        use_tracking()
        mlflow.set_experiment(experiment)
        output = bundle.score_frame(sample)
        signature = infer_signature(sample, output)
        with mlflow.start_run() as run:
            mlflow.log_params({key: _fit_param(value) for key, value in params.items()})
            mlflow.log_metrics(metrics)
            for artifact in artifacts:
                mlflow.log_artifact(str(artifact), artifact_path="report")
            info = mlflow.pyfunc.log_model(
                name=MODEL_ARTIFACT,
                python_model=str(ENTRY_POINT),
                artifacts={ARTIFACT_KEY: str(bundle.path)},
                signature=signature,
                input_example=sample.head(3),
                pip_requirements=["retention-engine", f"mlflow=={mlflow.__version__}"],
            )
            run_id = run.info.run_id
        version = None
        if register:
            registered = mlflow.register_model(info.model_uri, REGISTERED_MODEL)
            version = str(registered.version)
        return LoggedRun(run_id=run_id, model_uri=info.model_uri, version=version)
    except MlflowException as exc:
        raise RegistryError(f"MLflow refused the training run: {first_line(exc)}") from exc


def promote(version: str, alias: str) -> None:
    """Point ``alias`` at ``version`` of the registered bundle."""
    use_tracking()
    client = MlflowClient()
    try:
        client.get_model_version(REGISTERED_MODEL, version)
    except MlflowException as exc:
        raise ModelNotFound(f"{REGISTERED_MODEL} has no version {version!r}") from exc
    client.set_registered_model_alias(REGISTERED_MODEL, alias, version)
