"""The model bundle: churn + calibration + uplift + value + feature spec, as one artefact.

On disk a bundle is a directory holding ``manifest.json`` (this module's
:class:`BundleManifest`) and LightGBM text model files — no pickles, so loading a bundle
never runs code from the artefact. Training writes it with :func:`save_bundle`; the engine,
the batch scorer and the MLflow pyfunc wrapper all read it with :meth:`ModelBundle.load`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from engine.errors import ModelNotFound
from engine.features import Columns, FeatureSpec, build_matrix
from engine.scoring.calibration import Calibrator
from engine.scoring.compiled import Predict, booster_predict, compile_model
from engine.scoring.value import ValueModel

FloatArray = npt.NDArray[np.float64]

FORMAT: Final = "retention-bundle/1"
MANIFEST: Final = "manifest.json"
CHURN_MODEL: Final = "churn.txt"
COMPILED_MIN_ROWS: Final = 100_000
"""Batches at least this large are scored with compiled models (engine/scoring/compiled.py):
compiling costs seconds once per model, scoring 100k rows with LightGBM about one second."""


class UpliftSpec(BaseModel):
    """Per action, a regressor predicting the reduction in churn probability it causes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: str
    models: dict[str, str]
    """Action id → model file inside the bundle."""


class BundleManifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["retention-bundle/1"] = FORMAT
    contract: str
    id_column: str
    data_fingerprint: str
    seed: int
    features: FeatureSpec
    churn_model: str = CHURN_MODEL
    calibrator: Calibrator
    uplift: UpliftSpec | None = None
    value: ValueModel | None = None
    skipped: dict[str, str] = {}
    """Parts not trained, with the reason (e.g. no campaign history in the table)."""
    metrics: dict[str, float] = {}
    versions: dict[str, str] = {}


@dataclass(frozen=True)
class ModelBundle:
    """A loaded bundle: boosters in memory, ready to score rows or whole frames."""

    manifest: BundleManifest
    churn: lgb.Booster
    uplift_models: Mapping[str, lgb.Booster]
    path: Path
    _compiled: dict[str, Predict] = field(default_factory=dict, repr=False, compare=False)

    @property
    def features(self) -> FeatureSpec:
        return self.manifest.features

    @property
    def actions(self) -> list[str]:
        return list(self.uplift_models)

    @classmethod
    def load(cls, path: str | Path) -> ModelBundle:
        root = Path(path)
        manifest_path = root / MANIFEST
        if not manifest_path.is_file():
            raise ModelNotFound(f"{root}: not a model bundle (no {MANIFEST})")
        try:
            manifest = BundleManifest.model_validate_json(manifest_path.read_text())
        except ValidationError as exc:
            raise ModelNotFound(f"{manifest_path}: invalid bundle manifest: {exc}") from exc

        def booster(name: str) -> lgb.Booster:
            file = root / name
            if not file.is_file():
                raise ModelNotFound(f"{root}: bundle file {name} is missing")
            return lgb.Booster(model_file=str(file))

        uplift = manifest.uplift.models if manifest.uplift else {}
        return cls(
            manifest=manifest,
            churn=booster(manifest.churn_model),
            uplift_models={action: booster(file) for action, file in uplift.items()},
            path=root,
        )

    def matrix(self, data: Columns, offered_premium: Any = None) -> FloatArray:
        return build_matrix(data, self.features, offered_premium)

    def _model_files(self) -> dict[str, str]:
        """Model key (``churn`` or an action id) → file name inside the bundle."""
        uplift = self.manifest.uplift.models if self.manifest.uplift else {}
        return {"": self.manifest.churn_model, **uplift}

    def compiled_predictors(self, keys: list[str] | None = None) -> dict[str, Predict]:
        """Compiled predictors for the churn model (key ``""``) and the uplift models,
        compiled on first use (two at a time: LLVM releases the GIL) and cached in memory
        and on disk; a model that cannot be compiled gets its LightGBM booster."""
        files = self._model_files()
        wanted = [k for k in (list(files) if keys is None else keys) if k not in self._compiled]
        if wanted:
            with ThreadPoolExecutor(max_workers=2) as pool:
                done = pool.map(lambda k: compile_model(self.path / files[k]), wanted)
                for key, predict in zip(wanted, done, strict=True):
                    self._compiled[key] = predict or booster_predict(self._booster(key))
        return {k: self._compiled[k] for k in (list(files) if keys is None else keys)}

    def _booster(self, key: str) -> lgb.Booster:
        return self.churn if key == "" else self.uplift_models[key]

    def p_churn_raw(self, x: FloatArray, threads: int = 0) -> FloatArray:
        if len(x) >= COMPILED_MIN_ROWS:
            return self.compiled_predictors([""])[""](x, threads)
        return np.asarray(self.churn.predict(x, num_threads=threads), dtype=np.float64)

    def p_churn(self, x: FloatArray, threads: int = 0) -> FloatArray:
        """Calibrated churn probability for a feature matrix (compiled for large batches)."""
        return self.manifest.calibrator.apply(self.p_churn_raw(x, threads))

    def uplift(
        self, x: FloatArray, threads: int = 0, compiled: bool = False
    ) -> dict[str, FloatArray]:
        """Per action: predicted reduction in churn probability (negative: it hurts).

        ``compiled`` scores with the compiled models (worth it for large batches only)."""
        if compiled:
            predictors = self.compiled_predictors(self.actions)
            return {action: predictors[action](x, threads) for action in self.actions}
        return {
            action: np.asarray(model.predict(x, num_threads=threads), dtype=np.float64)
            for action, model in self.uplift_models.items()
        }

    def score_frame(self, frame: pd.DataFrame, threads: int = 0) -> pd.DataFrame:
        """Every score for every row: p_churn, margin, clv, expected_clv, uplift__<a>.

        ``clv`` is the lifetime value of the customer *if they renew* (what keeping them is
        worth, so ``uplift × clv`` is the value an action earns); ``expected_clv`` weighs it
        by the chance they renew at current terms.
        """
        x = self.matrix(frame)
        p = self.p_churn(x, threads)
        out = pd.DataFrame({self.manifest.id_column: frame[self.manifest.id_column].to_numpy()})
        out["p_churn"] = p
        value = self.manifest.value
        if value is not None:
            margin = value.renewal_margin(frame)
            retained = value.clv(frame, margin)
            out["margin"] = value.annual_margin(frame)
            out["clv"] = retained
            out["expected_clv"] = (1.0 - p) * retained
        compiled = len(x) >= COMPILED_MIN_ROWS
        for action, uplift in self.uplift(x, threads, compiled=compiled).items():
            out[f"uplift__{action}"] = uplift
        return out


def save_bundle(
    path: Path,
    manifest: BundleManifest,
    churn: lgb.Booster,
    uplift_models: Mapping[str, lgb.Booster],
) -> Path:
    """Write a bundle directory (the only writer of the format)."""
    path.mkdir(parents=True, exist_ok=True)
    churn.save_model(str(path / manifest.churn_model))
    if manifest.uplift is not None:
        for action, file in manifest.uplift.models.items():
            uplift_models[action].save_model(str(path / file))
    (path / MANIFEST).write_text(
        json.dumps(manifest.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
    )
    return path
