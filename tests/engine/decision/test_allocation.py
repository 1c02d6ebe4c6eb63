"""Batch budget allocation: never overspends, respects caps, is greedy, maximal, deterministic."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from engine.decision import Context, allocate, allocate_budgets, decide_frame
from engine.decision.allocation import Priority
from engine.rules import RuleSet

NOW = datetime(2026, 6, 1, 10, 0)  # as in conftest.py
TOLERANCE = 1e-9
MakeFrame = Callable[[RuleSet, pd.DataFrame, int], pd.DataFrame]


@st.composite
def problems(draw: st.DrawFn, k: int | None = None, whole: bool = False) -> dict[str, object]:
    """Random allocation inputs; ``whole``: costs and amounts in whole units (exact sums)."""
    rows = draw(st.integers(0, 40))
    k = k if k is not None else draw(st.integers(1, 3))
    actions = draw(st.integers(1, 5))
    budgets = draw(st.integers(0, 3))
    candidates = draw(hnp.arrays(np.int64, (rows, k), elements=st.integers(-1, actions - 1)))
    value = draw(
        hnp.arrays(np.float64, (rows, k), elements=st.floats(0.01, 1000) | st.just(math.nan))
    )
    money = st.integers(0, 200).map(float) if whole else st.floats(0, 200)
    cost = draw(hnp.arrays(np.float64, (rows, k), elements=money | st.just(math.nan)))
    return {
        "candidates": candidates,
        "value": value,
        "cost": cost,
        "action_budget": draw(
            st.lists(st.integers(-1, budgets - 1), min_size=actions, max_size=actions)
        ),
        "budget_amounts": draw(
            st.lists(
                st.integers(0, 1000).map(float) if whole else st.floats(0, 1000),
                min_size=budgets,
                max_size=budgets,
            )
        ),
        "action_caps": draw(
            st.lists(
                st.integers(0, 10).map(float) | st.just(math.inf),
                min_size=actions,
                max_size=actions,
            )
        ),
        "priority": draw(st.sampled_from(["expected_value", "value_per_cost"])),
    }


def _spending(
    problem: dict[str, object], given: npt.NDArray[np.int8]
) -> tuple[dict[int, float], dict[int, int]]:
    candidates = problem["candidates"]
    cost = problem["cost"]
    action_budget = problem["action_budget"]
    assert isinstance(candidates, np.ndarray)
    assert isinstance(cost, np.ndarray)
    assert isinstance(action_budget, list)
    spent: dict[int, float] = {}
    counts: dict[int, int] = {}
    for row, rank in enumerate(given.tolist()):
        if rank < 0:
            continue
        action = int(candidates[row, rank])
        assert action >= 0
        assert 0 <= cost[row, rank] < math.inf
        counts[action] = counts.get(action, 0) + 1
        if action_budget[action] >= 0:
            spent[action_budget[action]] = spent.get(action_budget[action], 0.0) + cost[row, rank]
    return spent, counts


@settings(max_examples=300, deadline=None)
@given(problem=problems())
def test_never_overspends_never_exceeds_caps_and_leaves_nothing_that_fits(
    problem: dict[str, object],
) -> None:
    given_rank = allocate(**problem)  # type: ignore[arg-type]
    assert np.array_equal(given_rank, allocate(**problem))  # type: ignore[arg-type]
    spent, counts = _spending(problem, given_rank)
    amounts = problem["budget_amounts"]
    caps = problem["action_caps"]
    assert isinstance(amounts, list)
    assert isinstance(caps, list)
    for budget, total in spent.items():
        assert total <= amounts[budget] * (1 + TOLERANCE) + TOLERANCE
    for action, offers in counts.items():
        assert offers <= caps[action]
    # Maximal: a customer left out has no candidate that would still fit.
    left = {b: amounts[b] - spent.get(b, 0.0) for b in range(len(amounts))}
    candidates, cost = problem["candidates"], problem["cost"]
    action_budget = problem["action_budget"]
    assert isinstance(candidates, np.ndarray)
    assert isinstance(cost, np.ndarray)
    assert isinstance(action_budget, list)
    for row in np.flatnonzero(given_rank < 0):
        for rank, action in enumerate(candidates[row].tolist()):
            if action < 0 or not 0 <= cost[row, rank] < math.inf:
                continue
            budget = action_budget[action]
            # With a margin: the test sums costs in another order than the allocation.
            margin = TOLERANCE * (1 + amounts[budget]) if budget >= 0 else 0.0
            fits_budget = budget < 0 or cost[row, rank] < left[budget] - margin
            fits_cap = counts.get(action, 0) < caps[action]
            assert not (fits_budget and fits_cap), (row, rank)


def _sequential_greedy(problem: dict[str, object]) -> npt.NDArray[np.int8]:
    """The textbook greedy, one candidate per customer: in priority order, take what fits."""
    candidates, value, cost = problem["candidates"], problem["value"], problem["cost"]
    assert isinstance(candidates, np.ndarray)
    assert isinstance(value, np.ndarray)
    assert isinstance(cost, np.ndarray)
    action_budget, amounts = problem["action_budget"], problem["budget_amounts"]
    caps = problem["action_caps"]
    assert isinstance(action_budget, list)
    assert isinstance(amounts, list)
    assert isinstance(caps, list)
    left, cap_left = list(amounts), list(caps)

    def key(row: int) -> float:
        v, c = float(value[row, 0]), float(cost[row, 0])
        if problem["priority"] == "value_per_cost":
            try:
                v = v / c if c > 0 else (math.inf if v > 0 else -math.inf)
            except OverflowError:
                v = math.inf
        return -math.inf if math.isnan(v) else float(v)

    given = np.full(len(candidates), -1, dtype=np.int8)
    for row in sorted(range(len(candidates)), key=lambda r: (-key(r), r)):
        action, c = int(candidates[row, 0]), cost[row, 0]
        if action < 0 or not 0 <= c < math.inf or cap_left[action] < 1:
            continue
        budget = action_budget[action]
        if budget >= 0 and c > left[budget]:
            continue
        given[row] = 0
        cap_left[action] -= 1
        if budget >= 0:
            left[budget] -= c
    return given


@settings(max_examples=300, deadline=None)
@given(problem=problems(k=1, whole=True))
def test_with_one_candidate_each_it_is_the_textbook_greedy(problem: dict[str, object]) -> None:
    # Whole amounts: sums are exact. With fractions the two ways of counting what is left
    # (running total against the amount; amount minus each cost) can round apart at the last
    # bit, so a cost of 1e-106 may fit in one and not the other; neither overspends.
    assert np.array_equal(allocate(**problem), _sequential_greedy(problem))  # type: ignore[arg-type]


def test_priority_value_per_cost_funds_cheaper_value_first() -> None:
    candidates = np.array([[0], [0], [0]])
    value = np.array([[100.0], [60.0], [60.0]])
    cost = np.array([[100.0], [50.0], [50.0]])
    by_value = allocate(candidates, value, cost, [0], [100.0], [math.inf], "expected_value")
    by_ratio = allocate(candidates, value, cost, [0], [100.0], [math.inf], "value_per_cost")
    assert by_value.tolist() == [0, -1, -1]
    assert by_ratio.tolist() == [-1, 0, 0]


def test_a_customer_falls_back_to_the_next_candidate_when_the_first_budget_is_spent() -> None:
    candidates = np.array([[0, 1], [0, 1]])
    value = np.array([[50.0, 20.0], [40.0, 10.0]])
    cost = np.array([[30.0, 5.0], [30.0, 5.0]])
    given = allocate(candidates, value, cost, [0, 1], [40.0, 100.0], [math.inf, math.inf])
    assert given.tolist() == [0, 1]


@pytest.mark.parametrize("priority", ["expected_value", "value_per_cost"])
def test_batch_allocation_respects_the_rule_sets_budgets_and_caps(
    demo_rules: RuleSet, book: pd.DataFrame, make_frame: MakeFrame, priority: Priority
) -> None:
    batch = decide_frame(demo_rules, make_frame(demo_rules, book, 7), Context(now=NOW))
    remaining = {"retention_discounts": 2000.0, "service_callbacks": 500.0}
    caps = {"payment_plan": 5}
    allocation = allocate_budgets(
        batch, remaining_budgets=remaining, remaining_caps=caps, priority=priority
    )
    assert allocation.spent["retention_discounts"] <= 2000.0 + TOLERANCE
    assert allocation.spent["service_callbacks"] <= 500.0 + TOLERANCE
    assert allocation.spent["pricing_concessions"] <= 150_000.0
    assert allocation.offers["payment_plan"] <= 5
    assert allocation.spent["retention_discounts"] > 1500  # the tight budget is used
    chosen = allocation.chosen
    assert not chosen[batch.control_group].any() or (chosen[batch.control_group] < 0).all()
    out = batch.to_frame()
    labels = allocation.actions()
    for row in np.flatnonzero(chosen >= 0)[:200]:
        offered = [out.loc[row, f"action_{k}"] for k in (1, 2, 3)]
        assert labels[row] in offered
    for action in demo_rules.actions:
        total = action.total_cap.max_offers if action.total_cap else math.inf
        assert allocation.offers[action.id] <= total
