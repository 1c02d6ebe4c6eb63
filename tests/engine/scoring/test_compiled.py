"""Compiled predictors: same numbers as LightGBM, cached on disk, LightGBM when unavailable."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import lightgbm as lgb
import numpy as np
import pytest

from engine.scoring import compiled
from engine.scoring.compiled import booster_predict, cache_key, compile_model

pytest.importorskip("lleaves")


def _model(tmp_path: Path) -> tuple[Path, lgb.Booster, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 4))
    x[:, 3] = rng.integers(0, 5, 3000)  # a categorical column
    x[rng.random(3000) < 0.05, 0] = np.nan  # missing values take the default branch
    y = (x[:, 1] + (x[:, 3] == 2) + rng.normal(size=3000) > 0.5).astype(float)
    params = {"objective": "binary", "num_leaves": 15, "verbosity": -1, "seed": 1}
    booster = lgb.train(params, lgb.Dataset(x, y, categorical_feature=[3]), num_boost_round=20)
    file = tmp_path / "model.txt"
    booster.save_model(str(file))
    return file, lgb.Booster(model_file=str(file)), x


def test_compiled_equals_lightgbm_and_is_cached(tmp_path: Path) -> None:
    file, booster, x = _model(tmp_path)
    cache = tmp_path / "cache"
    predict = compile_model(file, cache)
    assert predict is not None
    expected = booster_predict(booster)(x, 1)
    np.testing.assert_allclose(predict(x, 1), expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(predict(x, 2), expected, rtol=0, atol=1e-9)
    files = list(cache.iterdir())
    assert [f.name for f in files] == [cache_key(file.read_bytes())]
    again = compile_model(file, cache)  # loads the cached object, compiles nothing
    assert again is not None
    np.testing.assert_allclose(again(x, 1), expected, rtol=0, atol=1e-9)
    assert list(cache.iterdir()) == files


def test_cache_key_changes_with_the_model(tmp_path: Path) -> None:
    file, _, _ = _model(tmp_path)
    text = file.read_bytes()
    assert cache_key(text) != cache_key(text + b"\n")


def test_disabled_by_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file, _, _ = _model(tmp_path)
    monkeypatch.setenv(compiled.DISABLE_ENV, "0")
    assert compile_model(file, tmp_path / "cache") is None


def test_without_lleaves_there_is_no_compiled_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file, _, _ = _model(tmp_path)
    real = importlib.import_module

    def missing(name: str, package: str | None = None) -> ModuleType:
        if name == "lleaves":
            raise ImportError(name)
        return real(name, package)

    monkeypatch.setattr(compiled.importlib, "import_module", missing)
    assert compile_model(file, tmp_path / "cache") is None


def test_a_model_that_fails_to_compile_falls_back(tmp_path: Path) -> None:
    broken = tmp_path / "broken.txt"
    broken.write_text("not a model\n")
    assert compile_model(broken, tmp_path / "cache") is None
