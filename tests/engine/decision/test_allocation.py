"""Batch budget allocation: never overspends, respects caps, is greedy, maximal, deterministic.

Every priority, ``shadow_price`` (the Lagrangian knapsack with a greedy repair) included;
for that one also: its prices are the lowest at which customers' best choices fit, it is
the value-per-cost greedy when each customer has one candidate and one budget binds, and
on a large problem it is within a fraction of a percent of the linear-relaxation bound.
"""

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

from engine.decision import (
    Context,
    allocate,
    allocate_budgets,
    budget_shadow_prices,
    decide_frame,
    shadow_prices,
)
from engine.decision.allocation import Priority
from engine.rules import RuleSet

NOW = datetime(2026, 6, 1, 10, 0)  # as in conftest.py
TOLERANCE = 1e-9
MakeFrame = Callable[[RuleSet, pd.DataFrame, int], pd.DataFrame]


@st.composite
def problems(
    draw: st.DrawFn,
    k: int | None = None,
    whole: bool = False,
    priorities: tuple[Priority, ...] = ("expected_value", "value_per_cost", "shadow_price"),
) -> dict[str, object]:
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
        "priority": draw(st.sampled_from(priorities)),
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
@given(problem=problems(k=1, whole=True, priorities=("expected_value", "value_per_cost")))
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


@pytest.mark.parametrize("priority", ["expected_value", "value_per_cost", "shadow_price"])
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


@settings(max_examples=200, deadline=None)
@given(problem=problems(k=1, whole=True, priorities=("value_per_cost",)))
def test_shadow_price_with_one_candidate_each_and_no_caps_is_the_value_per_cost_greedy(
    problem: dict[str, object],
) -> None:
    # One candidate per customer and no caps: value − λ × cost orders a budget's customers
    # as value per cost does, so the priced allocation is the textbook greedy.
    caps = problem["action_caps"]
    assert isinstance(caps, list)
    problem["action_caps"] = [math.inf] * len(caps)
    priced = allocate(**{**problem, "priority": "shadow_price"})  # type: ignore[arg-type]
    assert np.array_equal(priced, _sequential_greedy(problem))


@settings(max_examples=200, deadline=None)
@given(problem=problems(k=3, whole=True, priorities=("shadow_price",)))
def test_prices_are_the_lowest_at_which_every_customers_best_choice_fits(
    problem: dict[str, object],
) -> None:
    # With a single budget and no caps the coordinate step is the whole answer, so it must
    # be exact: at λ the customers' own best choices fit the budget, just below λ they don't.
    candidates, value, cost = problem["candidates"], problem["value"], problem["cost"]
    assert isinstance(candidates, np.ndarray)
    assert isinstance(value, np.ndarray)
    assert isinstance(cost, np.ndarray)
    actions = int(candidates.max(initial=0)) + 1
    budget = [0] * actions
    amounts = [float(problem["budget_amounts"][0]) if problem["budget_amounts"] else 50.0]  # type: ignore[index]
    caps = [math.inf] * actions
    price = float(shadow_prices(candidates, value, cost, budget, amounts, caps).budgets[0])

    def use(at: float) -> float:
        """What the customers' best choices cost just above the price ``at``."""
        usable = (candidates >= 0) & (value > 0) & (cost >= 0) & (cost < math.inf)
        with np.errstate(invalid="ignore"):
            reduced = np.where(usable, value - at * cost, -np.inf)
        top = reduced.max(axis=1, initial=-np.inf)
        cheapest_best = np.where(reduced == top[:, None], cost, np.inf).min(axis=1, initial=np.inf)
        return float(cheapest_best[top > 0].sum())

    assert price >= 0
    assert use(price) <= amounts[0] * (1 + 1e-9) + 1e-9
    if price > 0:
        assert use(price * (1 - 1e-6) - 1e-9) > amounts[0]


def test_the_priced_allocation_picks_the_customer_offer_the_budget_can_afford() -> None:
    # Two customers, one budget of 100. Each has a big offer (value 100 for 90) and a small
    # one (value 60 for 40 / 50 for 50). By value, customer 0 takes the big one and
    # customer 1 gets what is left (value 100 in all); by value per cost only the small
    # offers (110). The priced allocation gives both their small offer too, and with a
    # budget of 130 gives customer 0 the big offer (100 + 60 = 160 > 110).
    candidates = np.array([[0, 1], [0, 1]])
    value = np.array([[100.0, 60.0], [100.0, 50.0]])
    cost = np.array([[90.0, 40.0], [90.0, 50.0]])
    args = ([0, 0], [100.0], [math.inf, math.inf])

    def total(given: npt.NDArray[np.int8]) -> float:
        return sum(float(value[r, k]) for r, k in enumerate(given.tolist()) if k >= 0)

    by_value = allocate(candidates, value, cost, *args, "expected_value")
    priced = allocate(candidates, value, cost, *args, "shadow_price")
    assert total(by_value) == 100.0
    assert total(priced) == 110.0
    bigger = allocate(candidates, value, cost, [0, 0], [130.0], args[2], "shadow_price")
    assert total(bigger) == 160.0


def test_on_a_large_problem_the_priced_allocation_is_within_a_hair_of_the_lp_bound() -> None:
    rng = np.random.default_rng(3)
    n, k, actions = 20_000, 3, 6
    candidates = np.stack([rng.permutation(actions)[:k] for _ in range(n)])
    candidates[rng.random((n, k)) < 0.3] = -1
    cost = rng.gamma(2.0, 20.0, (n, k))
    value = cost * rng.lognormal(0.3, 0.6, (n, k)) - 5.0
    budget = [0, 0, 1, 1, 2, -1]
    amounts = [60_000.0, 40_000.0, 20_000.0]
    caps = [math.inf, 1500.0, math.inf, math.inf, 800.0, math.inf]
    prices = shadow_prices(candidates, value, cost, budget, amounts, caps)
    assert (prices.budgets > 0).all()
    # Weak duality: any prices bound the optimum of the linear relaxation from above.
    reduced = prices.reduced(candidates, value, cost, budget)
    usable = (candidates >= 0) & (value > 0)
    best = np.where(usable, reduced, 0.0).max(axis=1).clip(min=0.0)
    finite_caps = np.where(np.isinf(caps), 0.0, caps)
    bound = best.sum() + prices.budgets @ amounts + prices.caps @ finite_caps
    earned = {}
    for priority in ("expected_value", "value_per_cost", "shadow_price"):
        given = allocate(candidates, value, cost, budget, amounts, caps, priority)  # type: ignore[arg-type]
        rows = np.flatnonzero(given >= 0)
        earned[priority] = float(value[rows, given[rows]].sum())
    assert earned["shadow_price"] <= bound + 1e-6
    assert earned["shadow_price"] >= 0.995 * bound
    assert earned["shadow_price"] > max(earned["expected_value"], earned["value_per_cost"])


def test_the_rule_sets_allocation_is_the_default_and_reports_its_prices(
    demo_rules: RuleSet, book: pd.DataFrame, make_frame: MakeFrame
) -> None:
    assert demo_rules.allocation == "shadow_price"
    batch = decide_frame(demo_rules, make_frame(demo_rules, book, 7), Context(now=NOW))
    remaining = {"retention_discounts": 2000.0, "service_callbacks": 500.0}
    default = allocate_budgets(batch, remaining_budgets=remaining)
    priced = allocate_budgets(batch, remaining_budgets=remaining, priority="shadow_price")
    assert np.array_equal(default.chosen, priced.chosen)
    assert default.shadow_prices == budget_shadow_prices(batch, remaining_budgets=remaining)
    assert default.shadow_prices["retention_discounts"] > 0
    assert default.shadow_prices["pricing_concessions"] == 0.0
    assert allocate_budgets(batch, priority="expected_value").shadow_prices == {}
    value = {
        p: float(np.nansum(np.where(a.chosen >= 0, _given_value(batch, a.rank), 0.0)))
        for p, a in (
            ("shadow_price", priced),
            ("expected_value", allocate_budgets(batch, remaining_budgets=remaining,
                                                priority="expected_value")),
        )
    }  # fmt: skip
    assert value["shadow_price"] >= value["expected_value"]


def _given_value(batch: object, rank: npt.NDArray[np.int8]) -> npt.NDArray[np.float64]:
    values = batch.value  # type: ignore[attr-defined]
    index = np.where(rank >= 0, rank, 0).astype(np.intp)
    picked: npt.NDArray[np.float64] = np.take_along_axis(values, index[:, None], axis=1)[:, 0]
    return picked
