"""Tests for the report plots (training/evaluation/plots.py): each writes a valid PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.evaluation.metrics import qini_curve, uplift_by_group, uplift_curve
from training.evaluation.plots import (
    plot_calibration,
    plot_feature_importance,
    plot_gains,
    plot_qini,
    plot_uplift_calibration,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert len(data) > 1000
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    assert data[-8:-4] == b"IEND"


@pytest.fixture
def scored() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    p = rng.uniform(0.02, 0.9, 2_000)
    y = (rng.random(p.size) < p).astype(int)
    return y, p


def test_plot_calibration(tmp_path: Path, scored: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = scored
    out = plot_calibration(y, p, tmp_path / "calibration.png")
    assert out == tmp_path / "calibration.png"
    _assert_png(out)
    both = plot_calibration(y, {"raw": p**1.5, "calibrated": p}, tmp_path / "sub" / "cal2.png")
    _assert_png(both)


def test_plot_gains(tmp_path: Path, scored: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = scored
    _assert_png(plot_gains(y, p, tmp_path / "gains.png"))
    _assert_png(plot_gains(y, {"model": p, "flipped": 1 - p}, str(tmp_path / "gains2.png")))


def test_plot_qini(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    n = 5_000
    effect = rng.choice([0.1, 0.0, -0.05], n)
    treated = rng.integers(0, 2, n)
    y = (rng.random(n) < 0.3 - treated * effect).astype(int)
    curves = {
        "model": qini_curve(y, treated, effect + rng.normal(0, 0.05, n)),
        "truth": qini_curve(y, treated, effect),
        "random": qini_curve(y, treated, rng.random(n)),
    }
    _assert_png(plot_qini(curves, tmp_path / "qini.png"))
    _assert_png(
        plot_qini(
            {"uplift": uplift_curve(y, treated, effect)}, tmp_path / "u.png", random_line=False
        )
    )
    with pytest.raises(ValueError, match="nothing"):
        plot_qini({}, tmp_path / "empty.png")


def test_plot_feature_importance(tmp_path: Path) -> None:
    names = [f"feature_{i}" for i in range(30)]
    values = np.linspace(-1, 2, 30)
    out = plot_feature_importance(names, values, tmp_path / "imp.png", top=10)
    _assert_png(out)
    with pytest.raises(ValueError, match="same length"):
        plot_feature_importance(names[:3], values, tmp_path / "bad.png")


def test_plot_uplift_calibration(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    effect = rng.uniform(-0.05, 0.15, 20_000)
    treated = rng.integers(0, 2, effect.size)
    y = (rng.random(effect.size) < 0.3 - treated * effect).astype(int)
    groups = uplift_by_group(y, treated, effect)
    _assert_png(plot_uplift_calibration(groups, tmp_path / "uplift_calibration.png"))
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_uplift_calibration(groups.iloc[:0], tmp_path / "empty.png")
