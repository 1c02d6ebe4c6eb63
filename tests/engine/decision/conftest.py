"""Shared inputs for the decision-core tests: the demo rule set and a scored synthetic book.

``batch_frame`` adds to a book what the model bundle and the counter store would give the
engine (scores, uplift per action, contact history as columns); ``row_inputs`` turns one row
of such a frame back into the arguments of ``decide`` (features, scores, context, history),
so per-customer and vectorised results can be compared row by row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from engine.decision import (
    ContactSnapshot,
    Context,
    OfferRecord,
    Scores,
)
from engine.rules import RuleSet, compile_rule_set, load_rule_set
from training.synth import generate_book

ROOT = Path(__file__).resolve().parents[3]
DEMO_RULES = ROOT / "rules" / "retention.yaml"
NOW = datetime(2026, 6, 1, 10, 0)

RowInputs = tuple[str, dict[str, Any], Scores, Context, ContactSnapshot]


@pytest.fixture(scope="session")
def demo_rules() -> RuleSet:
    return load_rule_set(DEMO_RULES)


@pytest.fixture(scope="session")
def rule_variants(demo_rules: RuleSet) -> list[RuleSet]:
    """The demo rules and variants: custom formula, min score, top-1, budgets with declared
    shadow prices (``min_value_per_cost``)."""
    text = DEMO_RULES.read_text()
    edits = [
        ("formula: uplift * clv - cost", "formula: uplift * clv * 1.2 - cost - 5"),
        ("min_score: 0", "min_score: 35"),
        ("top_k: 3", "top_k: 1"),
        (
            "amount: 250000, period: quarter}",
            "amount: 250000, period: quarter, min_value_per_cost: 0.8}",
        ),
    ]
    variants = [demo_rules]
    for old, new in edits:
        assert old in text
        variants.append(compile_rule_set(text.replace(old, new).encode(), "variant.yaml"))
    # Every budget priced, and with a custom formula: the price comes off the formula too.
    priced = text
    for old, new in (
        ("amount: 40000, period: month}", "amount: 40000, period: month, min_value_per_cost: 1.5}"),
        ("period: quarter}", "period: quarter, min_value_per_cost: 0.4}"),
        ("formula: uplift * clv - cost", "formula: uplift * clv - cost - 1"),
    ):
        assert old in priced
        priced = priced.replace(old, new)
    variants.append(compile_rule_set(priced.encode(), "priced.yaml"))
    return variants


VARIANTS = 6
"""How many rule sets ``rule_variants`` holds."""


@pytest.fixture(scope="session")
def book() -> pd.DataFrame:
    return generate_book(3000, seed=11)


def batch_frame(rules: RuleSet, book: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The book with scores, uplifts, per-row context and contact history columns."""
    rng = np.random.default_rng(seed)
    n = len(book)
    frame = book.drop(columns=[c for c in book.columns if c.startswith("truth_")]).copy()
    frame["p_churn"] = book["truth_p_churn__none"].to_numpy()
    frame["clv"] = np.where(rng.random(n) < 0.02, np.nan, book["margin"].to_numpy() * 4.5)
    for action in rules.actions:
        uplift = rng.normal(0.03, 0.05, n)
        frame[f"uplift__{action.id}"] = np.where(rng.random(n) < 0.1, np.nan, uplift)
    frame["channel"] = rng.choice(["agent", "web", "app", "email", "sms"], n)
    frame["intent"] = rng.choice(np.array(["cancel_request", "complaint", None], dtype=object), n)
    frame["event"] = rng.choice(np.array(["renewal_due", None], dtype=object), n)
    frame["contact_offers_in_window"] = rng.choice([0, 0, 0, 1, 2, 3], n)
    declined = rng.choice([-1, -1, -1, 3, 13, 14, 15, 40], n)
    frame["contact_last_decline_at"] = pd.to_datetime(
        [NOW - timedelta(days=int(d)) if d >= 0 else None for d in declined]
    )
    for action in rules.actions:
        frame[f"contact_offers__{action.id}"] = rng.choice([0, 0, 0, 0, 1, 2], n)
    return frame


def row_inputs(rules: RuleSet, frame: pd.DataFrame, i: int) -> RowInputs:
    """What ``decide`` gets for row ``i`` of a ``batch_frame``: the same facts, row-shaped."""
    record = frame.iloc[i].to_dict()
    scores = Scores(
        p_churn=record["p_churn"],
        clv=record["clv"],
        margin=record["margin"],
        uplift={a.id: record[f"uplift__{a.id}"] for a in rules.actions},
    )
    context = Context(
        now=NOW, channel=record["channel"], intent=record["intent"], event=record["event"]
    )
    # Offers counted in the contact window fall inside every action's cap window too, so
    # they are recorded under an id no action has; per-action counts are recorded apart.
    policy = rules.contact_policy
    recent = NOW - (policy.window if policy else timedelta(days=30)) / 2
    offers = [OfferRecord("elsewhere", recent)] * int(record["contact_offers_in_window"])
    for action in rules.actions:
        if action.per_customer_cap is not None:
            at = NOW - action.per_customer_cap.window / 2
            offers += [OfferRecord(action.id, at)] * int(record[f"contact_offers__{action.id}"])
    declined = record["contact_last_decline_at"]
    history = ContactSnapshot(
        tuple(offers), None if pd.isna(declined) else declined.to_pydatetime()
    )
    return str(record["customer_id"]), record, scores, context, history


@pytest.fixture(scope="session")
def now() -> datetime:
    return NOW


@pytest.fixture(scope="session")
def make_frame() -> Callable[[RuleSet, pd.DataFrame, int], pd.DataFrame]:
    return batch_frame


@pytest.fixture(scope="session")
def make_row() -> Callable[[RuleSet, pd.DataFrame, int], RowInputs]:
    return row_inputs
