"""Fitting the value model: where margin comes from, and cohort retention curves."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.scoring.value import ALL_SEGMENTS, MarginSpec, ValueModel
from training.contract import ContractTable
from training.sbg import fit_sbg_from_renewals

MIN_SEGMENT_ROWS = 500
_HOMOGENEOUS_SCALE = 1e4


def margin_spec(table: ContractTable) -> tuple[MarginSpec | None, str]:
    """The contract's margin, else premium − claims cost (− cost to serve); or why not."""
    col = table.column_for
    if col("margin"):
        return MarginSpec(
            margin=col("margin"), premium=col("premium"), proposed_premium=col("proposed_premium")
        ), "margin column"
    if col("premium") and col("claims_cost"):
        return MarginSpec(
            premium=col("premium"),
            claims_cost=col("claims_cost"),
            cost_to_serve=col("cost_to_serve"),
            proposed_premium=col("proposed_premium"),
        ), "premium − claims cost − cost to serve"
    return None, "the contract maps no margin, nor premium and claims cost"


def _curve(tenure: pd.Series | None, churned: pd.Series) -> tuple[float, float]:
    if tenure is None or tenure.nunique() < 3 or churned.nunique() < 2:
        # Without tenure variation heterogeneity cannot be told apart from the mean: a
        # constant retention rate, which an sBG with huge alpha, beta reproduces.
        rate = float(np.clip(churned.mean(), 1e-3, 1 - 1e-3))
        return rate * _HOMOGENEOUS_SCALE, (1 - rate) * _HOMOGENEOUS_SCALE
    fit = fit_sbg_from_renewals(tenure.to_numpy(), churned.to_numpy())
    return fit.alpha, fit.beta


def fit_value_model(
    table: ContractTable,
    rows: npt.NDArray[np.bool_],
    horizon_years: int,
    discount_rate: float,
) -> tuple[ValueModel | None, str]:
    """Value model from the training rows (untreated customers: churn at current terms)."""
    spec, source = margin_spec(table)
    if spec is None:
        return None, source
    frame = table.frame.loc[rows]
    churned = table.label.loc[rows]
    tenure_col, segment_col = table.column_for("tenure"), table.column_for("segment")
    tenure = frame[tenure_col] if tenure_col else None
    curves = {ALL_SEGMENTS: _curve(tenure, churned)}
    if segment_col and tenure is not None:
        for name, group in frame.groupby(segment_col, observed=True):
            if len(group) >= MIN_SEGMENT_ROWS:
                curves[str(name)] = _curve(group[tenure_col], churned.loc[group.index])
    model = ValueModel(
        margin=spec,
        horizon_years=horizon_years,
        discount_rate=discount_rate,
        curves=curves,
        segment=segment_col,
        tenure=tenure_col,
    )
    return model, f"margin from {source}; {len(curves) - 1} segment curves"
