"""The bundle as an MLflow pyfunc model: ``mlflow.pyfunc.load_model(uri).predict(frame)``.

Logged "from code" (``engine/scoring/pyfunc_entry.py``) rather than pickled, so loading the
model through MLflow runs our installed code, never a pickle stored with the artefact. The
bundle itself travels as the ``bundle`` artifact directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.pyfunc.model import PythonModel, PythonModelContext

from engine.scoring.bundle import ModelBundle

ARTIFACT_KEY = "bundle"
ENTRY_POINT = Path(__file__).with_name("pyfunc_entry.py")


class RetentionBundleModel(PythonModel):
    """Scores a frame of customers: p_churn, margin, clv, expected_clv, uplift__<a>."""

    def load_context(self, context: PythonModelContext) -> None:
        self.bundle = ModelBundle.load(context.artifacts[ARTIFACT_KEY])

    def predict(
        self,
        context: PythonModelContext,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        return self.bundle.score_frame(model_input)
