"""A bundle scores the same with compiled models as with LightGBM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.scoring import bundle as bundle_module
from engine.scoring import compiled
from engine.scoring.bundle import ModelBundle
from training.pipeline import TrainResult

pytest.importorskip("lleaves")


def test_compiled_scores_equal_lightgbm(
    trained: TrainResult,
    small_book: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(compiled.CACHE_ENV, str(tmp_path / "cache"))
    frame = small_book.head(2000)
    reference = ModelBundle.load(trained.bundle.path).score_frame(frame)
    monkeypatch.setattr(bundle_module, "COMPILED_MIN_ROWS", 0)
    bundle = ModelBundle.load(trained.bundle.path)
    fast = bundle.score_frame(frame)
    assert len(bundle.compiled_predictors()) == 1 + len(bundle.actions)
    assert list(fast.columns) == list(reference.columns)
    numbers = reference.select_dtypes("number").columns
    np.testing.assert_allclose(fast[numbers], reference[numbers], rtol=0, atol=1e-9)
    assert len(list((tmp_path / "cache").iterdir())) == 1 + len(bundle.actions)
