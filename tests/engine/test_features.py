"""Features are computed once: per row and per frame agree, and specs survive JSON."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.features import FeatureSpec, build_matrix, build_row

ROLES = {
    "premium": "annual_premium",
    "proposed_premium": "proposed_premium",
    "new_business_premium": "new_business_premium",
}


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [30, 55, None],
            "has_home": [True, False, True],
            "segment": pd.Categorical(["vip", "mass", None], categories=["mass", "vip"]),
            "annual_premium": [500.0, 800.0, 650.0],
            "proposed_premium": [550.0, 800.0, 700.0],
            "new_business_premium": [500.0, 700.0, np.nan],
        }
    )


@pytest.fixture
def spec(frame: pd.DataFrame) -> FeatureSpec:
    numeric = ["age", "has_home", "annual_premium", "proposed_premium"]
    return FeatureSpec.fit(frame, numeric, ["segment"], ROLES)


def test_names_and_derived_features(spec: FeatureSpec) -> None:
    assert spec.names == [
        "age", "has_home", "annual_premium", "proposed_premium", "segment",
        "price_change", "price_to_new_business",
    ]  # fmt: skip
    assert spec.categorical_indices == [4]


def test_matrix_values(frame: pd.DataFrame, spec: FeatureSpec) -> None:
    x = build_matrix(frame, spec)
    np.testing.assert_allclose(x[:, 0], [30, 55, np.nan])
    np.testing.assert_allclose(x[:, 4], [1, 0, np.nan])  # codes by declared level order
    np.testing.assert_allclose(x[:, 5], [0.1, 0.0, 700 / 650 - 1])
    np.testing.assert_allclose(x[:, 6], [0.1, 800 / 700 - 1, np.nan])


def test_one_row_from_a_plain_record_equals_the_frame_row(
    frame: pd.DataFrame, spec: FeatureSpec
) -> None:
    x = build_matrix(frame, spec)
    for i, record in enumerate(frame.astype(object).to_dict("records")):
        record = {k: (None if pd.isna(v) else v) for k, v in record.items()}
        np.testing.assert_array_equal(build_row(record, spec), x[i : i + 1])


def test_offered_premium_reprices_every_price_feature(
    frame: pd.DataFrame, spec: FeatureSpec
) -> None:
    x = build_matrix(frame, spec, offered_premium=np.array([500.0, 880.0, 650.0]))
    np.testing.assert_allclose(x[:, 3], [500, 880, 650])
    np.testing.assert_allclose(x[:, 5], [0.0, 0.1, 0.0])
    row = build_row({"annual_premium": 500.0, "new_business_premium": 400.0}, spec, 600.0)
    np.testing.assert_allclose(row[0, 5:], [0.2, 0.5])


def test_unknown_level_and_missing_column_are_missing(spec: FeatureSpec) -> None:
    row = build_row({"segment": "platinum"}, spec)
    assert np.isnan(row[0, 4])
    assert np.isnan(row[0, 0])


def test_spec_round_trips_through_json_keeping_column_order(spec: FeatureSpec) -> None:
    again = FeatureSpec.model_validate_json(spec.model_dump_json())
    assert again == spec
    assert again.names == spec.names
