"""Finding a model bundle: a local path, an MLflow run, a registry version or an alias.

``REF`` forms: a directory holding a bundle (or an MLflow model directory that contains
one); ``models:/…`` and ``runs:/…`` URIs; a version number (``3``); a 32-hex run id; any
other word is an alias of the registered model (``champion``). The tracking store is the
``MLFLOW_TRACKING_URI`` environment variable, else a SQLite file in the working directory.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from engine.errors import ModelNotFound
from engine.scoring.bundle import MANIFEST, ModelBundle
from engine.scoring.pyfunc import ARTIFACT_KEY

REGISTERED_MODEL: Final = "retention-bundle"
DEFAULT_ALIAS: Final = "champion"
MODEL_ARTIFACT: Final = "bundle"
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")


def first_line(exc: BaseException) -> str:
    """The first line of an error's text (MLflow's carry stack traces), or its type."""
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else ``sqlite:///<cwd>/mlflow.db``."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd() / 'mlflow.db'}"


@contextmanager
def tracking_env(uri: str) -> Iterator[None]:
    """Point MLflow (which reads ``MLFLOW_TRACKING_URI``) at ``uri`` for this block only."""
    before = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = uri
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = before


def use_tracking() -> str:
    import mlflow

    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def model_uri(ref: str) -> str:
    """The MLflow URI a non-path reference stands for."""
    if ref.startswith(("models:/", "runs:/")):
        return ref
    if ref.isdigit():
        return f"models:/{REGISTERED_MODEL}/{ref}"
    if _RUN_ID.match(ref):
        return _logged_model_of_run(ref)
    return f"models:/{REGISTERED_MODEL}@{ref}"


def _logged_model_of_run(run_id: str) -> str:
    """MLflow 3 keeps models outside the run's artifacts: find the one the run logged."""
    import mlflow
    from mlflow.tracking import MlflowClient

    experiments = [e.experiment_id for e in MlflowClient().search_experiments()]
    found = mlflow.search_logged_models(
        experiment_ids=experiments,
        filter_string=f"source_run_id = '{run_id}'",
        output_format="list",
    )
    if not found:
        return f"runs:/{run_id}/{MODEL_ARTIFACT}"
    return f"models:/{found[0].model_id}"


def _bundle_in(directory: Path) -> Path | None:
    for candidate in (directory, directory / "artifacts" / ARTIFACT_KEY):
        if (candidate / MANIFEST).is_file():
            return candidate
    return None


def resolve_bundle(ref: str | None = None, cache_dir: Path | None = None) -> Path:
    """A local directory holding the bundle ``ref`` points at (downloaded if needed)."""
    ref = ref or DEFAULT_ALIAS
    local = Path(ref)
    if local.exists():
        found = _bundle_in(local)
        if found is None:
            raise ModelNotFound(f"{ref}: no model bundle there (no {MANIFEST})")
        return found
    import mlflow
    from mlflow.exceptions import MlflowException

    use_tracking()
    destination = Path(tempfile.mkdtemp(prefix="bundle-", dir=cache_dir))
    uri = ref
    try:
        uri = model_uri(ref)
        downloaded = Path(mlflow.artifacts.download_artifacts(uri, dst_path=str(destination)))
    except (MlflowException, OSError) as exc:
        raise ModelNotFound(f"unknown model reference {ref!r} ({uri}): {first_line(exc)}") from exc
    found = _bundle_in(downloaded)
    if found is None:
        raise ModelNotFound(f"{ref!r} ({uri}) is not a retention bundle")
    return found


def load_bundle(ref: str | None = None) -> ModelBundle:
    """Resolve and load ``ref`` for a command: a downloaded copy stays until the process
    exits (batch scoring compiles from its files), then it is deleted."""
    folder = Path(tempfile.mkdtemp(prefix="retention-model-"))
    atexit.register(shutil.rmtree, folder, True)
    return ModelBundle.load(resolve_bundle(ref, cache_dir=folder))
