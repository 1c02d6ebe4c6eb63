"""The scorer's fast paths give LightGBM's own numbers, bit for bit."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from engine.features import CategoricalFeature, FeatureSpec
from engine.scoring.bundle import BundleManifest, ModelBundle, UpliftSpec
from engine.scoring.calibration import Calibrator
from engine.scoring.path_contributions import PathContributions
from engine.service.models import LiveModel
from engine.service.scoring import PredictMode, ReasonMethod, RowPredictor, Scorer

SPEC = FeatureSpec(
    numeric=("age", "claims", "annual_premium", "proposed_premium"),
    categorical=(CategoricalFeature(name="segment", levels=("mass", "vip", "senior")),),
    derived=("price_change",),
    premium="annual_premium",
    proposed_premium="proposed_premium",
)


def _records(n: int, seed: int) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    records: list[dict[str, object]] = []
    for _ in range(n):
        premium = float(rng.uniform(300, 900))
        record: dict[str, object] = {
            "age": int(rng.integers(18, 90)),
            "claims": float(rng.poisson(0.4)),
            "annual_premium": premium,
            "proposed_premium": premium * float(rng.uniform(0.9, 1.3)),
            "segment": str(rng.choice(["mass", "vip", "senior", "unknown"])),
        }
        if rng.random() < 0.2:  # missing values go down LightGBM's missing branch
            del record[str(rng.choice(["age", "claims", "segment"]))]
        records.append(record)
    return records


def _booster(x: np.ndarray, y: np.ndarray, objective: str, seed: int) -> lgb.Booster:
    data = lgb.Dataset(x, y, categorical_feature=[4], free_raw_data=False)
    params = {"objective": objective, "num_leaves": 15, "verbose": -1, "seed": seed}
    return lgb.train(params, data, num_boost_round=40)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> LiveModel:
    from engine.features import build_matrix

    rng = np.random.default_rng(7)
    records = _records(600, seed=1)
    x = np.vstack([build_matrix(r, SPEC) for r in records])
    churn = _booster(x, (rng.random(len(x)) < 0.3).astype(float), "binary", 1)
    uplift = {a: _booster(x, rng.normal(0.02, 0.05, len(x)), "regression", i)
              for i, a in enumerate(("discount", "callback"))}  # fmt: skip
    manifest = BundleManifest(
        contract="test", id_column="customer_id", data_fingerprint="-", seed=1, features=SPEC,
        calibrator=Calibrator(kind="isotonic", x=(0.0, 0.5, 1.0), y=(0.0, 0.4, 1.0)),
        uplift=UpliftSpec(method="t", models={a: f"{a}.txt" for a in uplift}),
    )  # fmt: skip
    bundle = ModelBundle(manifest, churn, uplift, Path(tmp_path_factory.mktemp("bundle")))
    return LiveModel(bundle, "test/1", "test")


@pytest.mark.parametrize("mode", ["value", "contrib", "leaf"])
def test_row_predictor_equals_booster_predict(live: LiveModel, mode: PredictMode) -> None:
    from engine.features import build_matrix

    x = np.vstack([build_matrix(r, SPEC) for r in _records(300, seed=2)])
    for booster in (live.bundle.churn, *live.bundle.uplift_models.values()):
        predictor = RowPredictor(booster, mode)
        assert predictor.fast
        got = np.vstack([predictor.predict(x[i]) for i in range(len(x))])
        want = booster.predict(
            x, pred_contrib=mode == "contrib", pred_leaf=mode == "leaf", num_threads=1
        )
        np.testing.assert_array_equal(got, np.asarray(want, dtype=np.float64).reshape(len(x), -1))


def test_row_predictor_falls_back_on_an_odd_row(live: LiveModel) -> None:
    predictor = RowPredictor(live.bundle.churn)
    row = np.array([40, 0, 500, 550, 1, 0.1], dtype=np.float32)  # not float64
    want = live.bundle.churn.predict(row.astype(np.float64).reshape(1, -1), num_threads=1)
    np.testing.assert_array_equal(predictor.predict(row), want)
    with pytest.raises(lgb.basic.LightGBMError):
        predictor.predict(np.zeros(3))  # the wrong width is LightGBM's error, not a crash


@pytest.mark.parametrize("method", ["path", "treeshap"])
def test_scores_equal_the_frame_path(live: LiveModel, method: ReasonMethod) -> None:
    """The one-row path (build_row + fast predictors) against bundle.matrix + predict."""
    scorer = Scorer(method=method)
    bundle = live.bundle
    path = PathContributions(bundle.churn)
    for i, record in enumerate(_records(200, seed=3)):
        scores, codes = scorer.score(live, record, f"digest-{i}")
        x = bundle.matrix(record)
        assert scores.p_churn == float(bundle.p_churn(x, threads=1)[0])
        for action, uplift in bundle.uplift(x, threads=1).items():
            assert scores.uplift[action] == float(uplift[0])
        if method == "treeshap":
            contributions = bundle.churn.predict(x, pred_contrib=True, num_threads=1)[0][:-1]
        else:
            contributions = path.contributions(bundle.churn.predict(x, pred_leaf=True)[0])
        for code in codes:
            index = SPEC.names.index(code.feature)
            assert code.contribution == round(float(contributions[index]), 4)
        assert len(codes) == min(3, int(np.count_nonzero(contributions)))


def test_predictors_follow_the_live_bundle(live: LiveModel) -> None:
    scorer = Scorer()
    first = scorer.predictors(live.bundle)
    assert scorer.predictors(live.bundle) is first
    other = ModelBundle(live.bundle.manifest, live.bundle.churn, {}, live.bundle.path)
    assert scorer.predictors(other).bundle is other
    assert scorer.predictors(live.bundle) is first  # the two newest are kept
