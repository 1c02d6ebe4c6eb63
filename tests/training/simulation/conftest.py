"""A small synthetic book and a tiny bundle trained on it, once per test session."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from engine.scoring.bundle import ModelBundle
from training.contract import CONTRACTS_DIR, load_contract, load_table
from training.pipeline import TrainConfig, train
from training.simulation.book import score_book
from training.synth import generate_book

ROOT = Path(__file__).resolve().parents[3]
DEMO_RULES = ROOT / "rules" / "retention.yaml"


@pytest.fixture(scope="session")
def sim_book_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("simulation") / "book.parquet"
    generate_book(12_000, seed=11).to_parquet(path, index=False)
    return path


@pytest.fixture(scope="session")
def sim_bundle_path(sim_book_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    table = load_table(sim_book_path, load_contract(CONTRACTS_DIR / "insurance_book.yaml"))
    out = tmp_path_factory.mktemp("simulation-bundle") / "bundle"
    # 300 treated customers and 30 churn events per action: any random split leaves that
    # much in a 12k book (50 events, the default, sat at the edge for some splits).
    result = train(table, out, TrainConfig(min_action_rows=300, min_action_events=30))
    # Without uplift models the engine offers nothing and every test here would be vacuous.
    assert len(result.bundle.uplift_models) == 6, result.bundle.manifest.skipped
    return out


@pytest.fixture(scope="session")
def sim_bundle(sim_bundle_path: Path) -> ModelBundle:
    return ModelBundle.load(sim_bundle_path)


@pytest.fixture(scope="session")
def sim_frame(sim_book_path: Path, sim_bundle: ModelBundle) -> pd.DataFrame:
    return score_book(pd.read_parquet(sim_book_path), sim_bundle)
