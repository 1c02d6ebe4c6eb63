"""The vectorised decision gives, row for row, exactly the per-customer decision."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from engine.decision import Context, Scores, decide, decide_frame
from engine.rules import RuleSet, compile_rule_set

from .conftest import VARIANTS

NOW = datetime(2026, 6, 1, 10, 0)  # as in conftest.py
MakeFrame = Callable[[RuleSet, pd.DataFrame, int], pd.DataFrame]
MakeRow = Callable[[RuleSet, pd.DataFrame, int], Any]


@pytest.mark.parametrize("variant", range(VARIANTS))
def test_every_row_agrees_with_decide(
    rule_variants: list[RuleSet],
    book: pd.DataFrame,
    make_frame: MakeFrame,
    make_row: MakeRow,
    variant: int,
) -> None:
    rules = rule_variants[variant]
    frame = make_frame(rules, book.head(1500), variant)
    batch = decide_frame(rules, frame, Context(now=NOW))
    for i in range(len(frame)):
        customer_id, features, scores, context, history = make_row(rules, frame, i)
        expected = decide(rules, customer_id, features, scores, context, history)
        assert batch.decision(i) == expected, i


def test_the_mix_of_outcomes_is_rich_enough_to_mean_something(
    demo_rules: RuleSet, book: pd.DataFrame, make_frame: MakeFrame
) -> None:
    batch = decide_frame(demo_rules, make_frame(demo_rules, book, 1), Context(now=NOW))
    out = batch.to_frame()
    assert out["action_1"].notna().mean() > 0.2
    assert out["action_3"].notna().any()
    assert out["fallback_used"].any()
    assert out["control_group"].any()
    assert out["contact_blocked"].any()
    codes = {r.code for i in range(300) for r in batch.decision(i).rejected}
    assert {"channel_not_applicable", "contact_policy", "not_eligible", "not_worth_it"} <= codes


def test_batch_context_applies_when_the_frame_has_no_context_columns(
    demo_rules: RuleSet, book: pd.DataFrame, make_frame: MakeFrame, make_row: MakeRow
) -> None:
    frame = make_frame(demo_rules, book.head(400), 3).drop(columns=["channel", "intent", "event"])
    context = Context(now=NOW, channel="agent", intent="cancel_request", event="renewal_due")
    batch = decide_frame(demo_rules, frame, context)
    for i in range(len(frame)):
        customer_id, features, scores, _, history = make_row(
            demo_rules,
            frame.assign(channel="agent", intent="cancel_request", event="renewal_due"),
            i,
        )
        assert batch.decision(i) == decide(
            demo_rules, customer_id, features, scores, context, history
        )


@pytest.mark.parametrize("dtype", ["object", "category", "string"])
def test_text_columns_in_any_dtype_give_the_same_answer(
    demo_rules: RuleSet, book: pd.DataFrame, make_frame: MakeFrame, dtype: str
) -> None:
    frame = make_frame(demo_rules, book.head(500), 4)
    reference = decide_frame(demo_rules, frame, Context(now=NOW)).to_frame()
    converted = frame.astype({"segment": dtype, "channel": dtype, "region": dtype})
    again = decide_frame(demo_rules, converted, Context(now=NOW)).to_frame()
    pd.testing.assert_frame_equal(reference, again)


def test_to_frame_hides_held_back_offers_of_the_control_group(
    demo_rules: RuleSet, book: pd.DataFrame, make_frame: MakeFrame
) -> None:
    batch = decide_frame(demo_rules, make_frame(demo_rules, book, 5), Context(now=NOW))
    out = batch.to_frame()
    control = out["control_group"].to_numpy()
    assert out.loc[control, "action_1"].isna().all()
    assert out.loc[control, "held_back_action"].notna().any()
    assert out.loc[~control, "held_back_action"].isna().all()
    offered = out["action_1"].notna() & ~out["fallback_used"]
    assert (out.loc[offered, "expected_value_1"] > 0).all()
    assert list(out.index) == list(range(len(book)))


def test_missing_columns_mean_missing_values_and_no_history(
    demo_rules: RuleSet, book: pd.DataFrame
) -> None:
    frame = book.head(200).assign(p_churn=0.2, clv=2000.0)  # no uplift, no history columns
    batch = decide_frame(demo_rules, frame, Context(now=NOW, channel="agent"))
    out = batch.to_frame()
    fallback = demo_rules.fallback
    assert fallback is not None
    # Without uplift nothing has a value; the fallback is offered wherever it qualifies.
    assert set(out["action_1"].dropna()) <= {fallback.id}
    assert not out["contact_blocked"].any()
    assert np.isnan(out["expected_value_1"]).all()


def test_an_empty_batch_and_a_rule_set_with_nothing_to_rank(demo_rules: RuleSet) -> None:
    context = Context(now=NOW, channel="agent")
    empty = pd.DataFrame({"customer_id": pd.Series([], dtype=object)})
    assert decide_frame(demo_rules, empty, context).to_frame().shape[0] == 0
    nothing = compile_rule_set(
        b"version: 1\nname: x\ncontext: {channels: [agent]}\n"
        b"actions:\n  - {id: no_action, group: none, kind: none}\n"
    )
    batch = decide_frame(nothing, pd.DataFrame({"customer_id": ["a", "b"]}), context)
    assert batch.to_frame()["action_1"].isna().all()
    assert batch.decision(1) == decide(nothing, "b", {}, Scores(0.1, 1.0, 1.0), context)
