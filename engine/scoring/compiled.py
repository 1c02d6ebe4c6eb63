"""Compiled LightGBM predictors for batch scoring (lleaves), with LightGBM as the fallback.

lleaves compiles a LightGBM text model to native code with LLVM; on this machine it scores
5–7× faster than ``Booster.predict`` and agrees with it to ~1e-15 (bench/results/train.md).
Compiling takes seconds per model, so it is done once per model file and the shared object
is cached under ``cache_dir()``, keyed by the sha256 of the model text, the lleaves and
llvmlite versions and the CPU (compiled code is specific to the host CPU). The cache is a
local, machine-written artefact: a bundle itself never carries native code.

Any failure (lleaves not installed, a model it cannot compile, an unwritable cache) falls
back to LightGBM: the predictions are the same, only slower.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import platform
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any, Final

import lightgbm as lgb
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Predict = Callable[[FloatArray, int], FloatArray]
"""``predict(x, threads)``: the model's output (probability for binary models)."""

CACHE_ENV: Final = "RETENTION_MODEL_CACHE_DIR"
DISABLE_ENV: Final = "RETENTION_COMPILED_MODELS"
"""Set to ``0`` to never compile (always LightGBM)."""

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Where compiled models live: ``$RETENTION_MODEL_CACHE_DIR`` or ``~/.cache/retention``."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "retention" / "compiled"


def enabled() -> bool:
    return os.environ.get(DISABLE_ENV, "1").strip().lower() not in {"0", "false", "no", "off"}


def _versions() -> str | None:
    try:
        return f"lleaves{metadata.version('lleaves')}-llvmlite{metadata.version('llvmlite')}"
    except metadata.PackageNotFoundError:
        return None


def cache_key(model_text: bytes) -> str | None:
    """The cache file name of a model, or None when lleaves is not installed."""
    versions = _versions()
    if versions is None:
        return None
    digest = hashlib.sha256(model_text).hexdigest()
    return f"{digest}-{versions}-{platform.machine()}-{_cpu_name()}.so"


def _cpu_name() -> str:
    try:
        llvm: Any = importlib.import_module("llvmlite.binding")
        return str(llvm.get_host_cpu_name())
    except Exception:  # pragma: no cover - llvmlite broken: the key just loses precision
        return "cpu"


def booster_predict(booster: lgb.Booster) -> Predict:
    def predict(x: FloatArray, threads: int) -> FloatArray:
        return np.asarray(booster.predict(x, num_threads=threads), dtype=np.float64)

    return predict


def compile_model(model_file: Path, directory: Path | None = None) -> Predict | None:
    """A compiled predictor for ``model_file`` (compiling and caching it on first use), or
    None when lleaves is unavailable or fails."""
    if not enabled():
        return None
    try:
        lleaves: Any = importlib.import_module("lleaves")
    except ImportError:
        return None
    try:
        text = model_file.read_bytes()
        key = cache_key(text)
        if key is None:
            return None
        folder = directory or cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / key
        model: Any = lleaves.Model(model_file=str(model_file))
        if target.is_file():
            model.compile(cache=str(target))
        else:
            # Compile to a private name, then rename: a concurrent reader never sees half a file.
            handle, name = tempfile.mkstemp(dir=folder, suffix=".so.tmp")
            os.close(handle)
            scratch = Path(name)
            scratch.unlink()
            model.compile(cache=str(scratch))
            scratch.replace(target)
    except Exception as exc:  # any failure means: score with LightGBM
        log.warning("compiling %s failed, scoring with LightGBM: %s", model_file, exc)
        return None

    def predict(x: FloatArray, threads: int) -> FloatArray:
        jobs = threads if threads > 0 else (os.cpu_count() or 1)
        data = np.ascontiguousarray(x, dtype=np.float64)
        return np.asarray(model.predict(data, n_jobs=jobs), dtype=np.float64)

    return predict
