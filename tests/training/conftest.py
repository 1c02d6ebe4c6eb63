"""A small trained bundle shared by the training tests (trained once per session)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from training.contract import CONTRACTS_DIR, ContractTable, load_contract, validate_frame
from training.pipeline import TrainConfig, TrainResult, train
from training.synth import generate_book

SMALL_CONFIG = TrainConfig(seed=3, min_action_rows=300, min_action_events=20)


@pytest.fixture(scope="session")
def small_config() -> TrainConfig:
    return SMALL_CONFIG


@pytest.fixture(scope="session")
def small_book() -> pd.DataFrame:
    return generate_book(12_000, seed=21)


@pytest.fixture(scope="session")
def small_table(small_book: pd.DataFrame) -> ContractTable:
    contract = load_contract(CONTRACTS_DIR / "insurance_book.yaml")
    return validate_frame(small_book, contract)


@pytest.fixture(scope="session")
def trained(small_table: ContractTable, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    out: Path = tmp_path_factory.mktemp("bundle")
    return train(small_table, out / "bundle", SMALL_CONFIG)
