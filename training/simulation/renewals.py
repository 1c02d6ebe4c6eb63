"""Renewal pricing: the rule set's recommended premiums against approving every proposal.

Money at premium ``P`` per customer (package docstring): kept = 1 − p(P), premium income =
kept × P, net value = kept × lifetime value of the margin at ``P``. ``p`` is the model's
churn at ``P`` for the ``expected_*`` figures and the generator's true churn for
``customers_kept``, ``premium_income`` and ``true_net_value`` when the book has truth
(without truth those two fall back to the model and ``basis`` says so).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np
import pandas as pd

from engine.decision import Context, check_renewals
from engine.rules import RuleSet
from engine.scoring.bundle import ModelBundle
from engine.scoring.value import ValueModel
from training.simulation.book import TRUTH_NONE, has_truth
from training.simulation.matrices import Numbers, lifetime_value
from training.simulation.price_response import price_response
from training.synth import true_churn_probability

ENGINE: Final = "engine"
APPROVE_ALL: Final = "approve_all"
LOSS_FREE_YEARS: Final = 3


def true_churn_at(frame: pd.DataFrame, premium: Numbers) -> Numbers:
    """The generator's churn at ``premium``, no action (the truth column where unchanged)."""
    proposed = frame["proposed_premium"].to_numpy(dtype=np.float64)
    out = frame[TRUTH_NONE].to_numpy(dtype=np.float64).copy()
    moved = np.flatnonzero(premium != proposed)
    if len(moved):
        out[moved] = true_churn_probability(frame.iloc[moved], premium=premium[moved])
    return out


def renewal_summary(
    rules: RuleSet,
    frame: pd.DataFrame,
    bundle: ModelBundle,
    value: ValueModel,
    context: Context,
    step: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    rows = frame["proposed_premium"].notna().to_numpy()
    book = (frame if rows.all() else frame.loc[rows]).reset_index(drop=True)  # no copy: CoW
    book["current_premium"] = book["annual_premium"]
    # The renewal check takes lifetime value at current terms (as the service passes it) and
    # values each premium itself; the scored book's ``clv`` is at the proposed premium.
    book["clv"] = value.clv(book, value.annual_margin(book))
    p_model = book["p_churn"].to_numpy(dtype=np.float64)
    step("renewals: checking prices (the model rescored at every candidate premium)")
    batch = check_renewals(rules, book, price_response(bundle, book, p_model), context)
    truth = has_truth(book)
    prices = {ENGINE: batch.recommended, APPROVE_ALL: batch.proposed}
    model_p = {ENGINE: batch.p_recommended, APPROVE_ALL: batch.p_proposed}
    loss_free = book["years_loss_free"].to_numpy() >= LOSS_FREE_YEARS
    out: dict[str, Any] = {
        "customers": len(book),
        "basis": "truth" if truth else "model",
        "verdicts": {
            name: int((batch.verdict == code).sum())
            for code, name in enumerate(("approve", "adjust", "review"))
        },
        "premium_lowered": int((batch.recommended < batch.proposed - 0.005).sum()),
        "premium_raised": int((batch.recommended > batch.proposed + 0.005).sum()),
    }
    step("renewals: valuing the recommended and the proposed premiums")
    groups: dict[str, dict[str, Any]] = {}
    for name, premium in prices.items():
        worth = lifetime_value(book, value, premium)
        figures = _money(premium, worth, model_p[name])
        if truth:
            figures.update(_money(premium, worth, true_churn_at(book, premium), "true"))
        out[name] = _totals(figures, np.ones(len(book), dtype=np.bool_), truth)
        groups[name] = _totals(figures, loss_free, truth)
    out[f"loss_free_{LOSS_FREE_YEARS}y"] = {"customers": int(loss_free.sum()), **groups}
    return out


def _money(
    premium: Numbers, worth: Numbers, p: Numbers, prefix: str = "expected"
) -> dict[str, Numbers]:
    """``worth``: the lifetime value of the margin at ``premium`` (``lifetime_value``)."""
    kept = 1.0 - p
    return {
        f"{prefix}_customers_kept": kept,
        f"{prefix}_premium_income": kept * premium,
        f"{prefix}_net_value": kept * worth,
    }


def _totals(
    figures: dict[str, Numbers], rows: np.ndarray[Any, np.dtype[np.bool_]], truth: bool
) -> dict[str, float]:
    totals = {name: float(values[rows].sum()) for name, values in figures.items()}
    basis = "true" if truth else "expected"
    totals["customers_kept"] = totals[f"{basis}_customers_kept"]
    totals["premium_income"] = totals[f"{basis}_premium_income"]
    return totals
