"""The simulation's fast paths give the same numbers as the plain ones they replace."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from engine.decision import PriceResponse, check_renewals
from engine.rules import load_rule_set
from engine.scoring.bundle import ModelBundle
from training.simulation import SimulationOptions, simulate
from training.simulation.matrices import Numbers
from training.simulation.price_response import price_response

from .conftest import DEMO_RULES

NOW = datetime(2026, 11, 23)


def _rescored(bundle: ModelBundle, frame: pd.DataFrame, at_proposed: Numbers) -> PriceResponse:
    """The plain price response: every row at another premium rebuilt and rescored."""
    proposed = frame["proposed_premium"].to_numpy(dtype=np.float64)

    def at(premium: Numbers) -> Numbers:
        out = at_proposed.copy()
        moved = np.flatnonzero((premium != proposed) & np.isfinite(premium))
        if len(moved):
            x = bundle.matrix(frame.iloc[moved], offered_premium=premium[moved])
            out[moved] = bundle.p_churn(x)
        return out

    return at


def test_price_response_equals_rescoring_every_row(
    sim_frame: pd.DataFrame, sim_bundle: ModelBundle
) -> None:
    book = sim_frame.head(3_000).copy()
    p = book["p_churn"].to_numpy(dtype=np.float64)
    fast, plain = price_response(sim_bundle, book, p), _rescored(sim_bundle, book, p)
    proposed = book["proposed_premium"].to_numpy(dtype=np.float64)
    current = book["annual_premium"].to_numpy(dtype=np.float64)
    rng = np.random.default_rng(3)
    asked = [current, np.round(current, 2), proposed, proposed * 0.95, current * 1.05]
    asked.append(np.where(rng.random(len(book)) < 0.5, current, proposed * 0.9))
    asked.append(np.where(rng.random(len(book)) < 0.1, np.nan, current * 0.9))
    for premium in asked:  # repeats on purpose: the second asking is served from memory
        np.testing.assert_array_equal(fast(premium), plain(premium))


def test_renewal_check_is_the_same_with_the_fast_price_response(
    sim_frame: pd.DataFrame, sim_bundle: ModelBundle
) -> None:
    rules = load_rule_set(DEMO_RULES)
    book = sim_frame.head(3_000).copy()
    book["current_premium"] = book["annual_premium"]
    p = book["p_churn"].to_numpy(dtype=np.float64)
    context = SimulationOptions(now=NOW).context()
    fast = check_renewals(rules, book, price_response(sim_bundle, book, p), context)
    plain = check_renewals(rules, book, _rescored(sim_bundle, book, p), context)
    np.testing.assert_array_equal(fast.recommended, plain.recommended)
    np.testing.assert_array_equal(fast.p_recommended, plain.p_recommended)
    np.testing.assert_array_equal(fast.verdict, plain.verdict)


def test_text_columns_as_categories_change_no_figure(
    sim_frame: pd.DataFrame, sim_bundle: ModelBundle
) -> None:
    rules = load_rule_set(DEMO_RULES)
    assert isinstance(sim_frame["segment"].dtype, pd.CategoricalDtype)
    assert not isinstance(sim_frame["customer_id"].dtype, pd.CategoricalDtype)
    text = sim_frame.astype(
        {c: str for c in sim_frame.columns if isinstance(sim_frame[c].dtype, pd.CategoricalDtype)}
    )
    options = SimulationOptions(now=NOW)
    as_categories = simulate(rules, sim_frame, sim_bundle, options).report
    as_text = simulate(rules, text, sim_bundle, options).report
    assert as_categories == as_text
