"""Batch budgets: give each customer at most one of their ranked candidates, never overspending.

Greedy by priority, in vectorised rounds. Each round takes every customer still without an
action, looks at their best candidate that still fits (their own rank order; "fits" means
cost known, the action's budget has at least that much left and its total cap at least one
offer), and sorts those by priority, highest first (ties: lower row first). Per budget the
running total of costs, and per action the running count, is taken in that order; a
customer gets the candidate when both running figures are still within what is left.
Customers turned away retry next round, with the same candidate if it still fits, else
their next one. Rounds end when nobody left has a candidate that fits. Hence:

* a budget's spending never exceeds its amount, an action's count never exceeds its cap;
* every customer left without an action has no candidate that would still fit;
* the same inputs give the same allocation.

Priority ``expected_value`` (default) gives money to the largest expected gains first;
``value_per_cost`` (expected value per unit of cost) gets more value out of a budget that
binds, like the greedy knapsack heuristic; a zero-cost candidate with positive value comes
first. Unknown values go last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from .batch import BatchDecisions, labelled
from .inputs import Numbers

Priority = Literal["expected_value", "value_per_cost"]
Indexes = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class Allocation:
    action_ids: tuple[str, ...]
    chosen: npt.NDArray[np.int16]
    """Per customer: index into ``action_ids`` of the action given, -1 for none."""
    rank: npt.NDArray[np.int8]
    """Per customer: which of their candidates (0: the best) was given, -1 for none."""
    spent: Mapping[str, float]
    offers: Mapping[str, int]

    def actions(self) -> pd.Categorical[str]:
        return labelled(self.chosen, self.action_ids)


def allocate_budgets(
    batch: BatchDecisions,
    *,
    remaining_budgets: Mapping[str, float] | None = None,
    remaining_caps: Mapping[str, int] | None = None,
    priority: Priority = "expected_value",
) -> Allocation:
    """Allocate the batch's candidates (control rows get nothing) under the rule set's
    budgets and total caps; ``remaining_*`` override what is left (default: the full
    amounts and caps), e.g. from the counter store mid-period."""
    rules = batch.rules
    budgets = list(rules.budgets)
    left = remaining_budgets or {}
    caps = remaining_caps or {}
    amounts = [float(left.get(name, rule.amount)) for name, rule in rules.budgets.items()]
    action_budget = [budgets.index(a.budget) if a.budget else -1 for a in rules.actions]
    action_caps = [
        float(caps.get(a.id, a.total_cap.max_offers if a.total_cap else np.inf))
        for a in rules.actions
    ]
    candidates = np.where(batch.control_group[:, None], -1, batch.slots)
    rank = allocate(
        candidates, batch.value, batch.cost, action_budget, amounts, action_caps, priority
    )
    rows = np.flatnonzero(rank >= 0)
    chosen = np.full(len(rank), -1, dtype=np.int16)
    chosen[rows] = candidates[rows, rank[rows]]
    costs = batch.cost[rows, rank[rows]]
    budget_of = np.asarray([*action_budget, -1])[chosen]
    spent = {name: float(costs[budget_of[rows] == b].sum()) for b, name in enumerate(budgets)}
    counts = np.bincount(chosen[rows], minlength=len(rules.actions))
    offers = {a.id: int(counts[a.index]) for a in rules.actions}
    ids = tuple(a.id for a in rules.actions)
    return Allocation(ids, chosen, rank, spent, offers)


def allocate(
    candidates: npt.NDArray[np.integer],
    value: Numbers,
    cost: Numbers,
    action_budget: Sequence[int],
    budget_amounts: Sequence[float],
    action_caps: Sequence[float],
    priority: Priority = "expected_value",
) -> npt.NDArray[np.int8]:
    """Per customer, the rank (column of ``candidates``) given, or -1.

    ``candidates`` (rows, K): action indexes, -1 for an empty slot; ``value`` and ``cost``
    the same shape. ``action_budget`` maps an action to its budget index (-1: no budget),
    ``action_caps`` to its remaining total cap (``inf``: none).
    """
    n, k = candidates.shape
    budget_of = np.append(np.asarray(action_budget, dtype=np.intp), -1)  # [-1]: empty slot
    budget_left = np.append(np.asarray(budget_amounts, dtype=np.float64), np.inf)
    cap_left = np.append(np.asarray(action_caps, dtype=np.float64), 0.0)
    actions = np.where(candidates >= 0, candidates, len(action_budget)).astype(np.intp)
    key = _priority(value, cost, priority)
    given = np.full(n, -1, dtype=np.int8)
    pointer = np.zeros(n, dtype=np.intp)
    waiting = np.flatnonzero((candidates >= 0).any(axis=1))
    while len(waiting):
        pointer[waiting] = _first_fitting(
            waiting, pointer[waiting], actions, cost, budget_of, budget_left, cap_left
        )
        waiting = waiting[pointer[waiting] < k]
        if not len(waiting):
            break
        slot = pointer[waiting]
        action = actions[waiting, slot]
        spend = cost[waiting, slot]
        order = np.lexsort((waiting, -key[waiting, slot]))
        rows, action, spend = waiting[order], action[order], spend[order]
        budget = budget_of[action]
        within_budget = _running_total(budget, spend) <= budget_left[budget]
        within_cap = _running_total(action, np.ones(len(action))) <= cap_left[action]
        accept = within_budget & within_cap
        given[rows[accept]] = pointer[rows[accept]]
        taken = budget[accept]
        spent = np.bincount(
            taken[taken >= 0], weights=spend[accept][taken >= 0], minlength=len(budget_left)
        )
        budget_left = np.maximum(budget_left - spent, 0.0)
        cap_left = cap_left - np.bincount(action[accept], minlength=len(cap_left))
        waiting = np.sort(rows[~accept])
    return given


def _first_fitting(
    rows: Indexes,
    start: Indexes,
    actions: Indexes,
    cost: Numbers,
    budget_of: Indexes,
    budget_left: Numbers,
    cap_left: Numbers,
) -> Indexes:
    """Per row, the first slot from ``start`` on whose candidate still fits (k: none)."""
    k = actions.shape[1]
    action = actions[rows]
    spend = cost[rows]
    budget = budget_of[action]
    # What is left only shrinks, so a candidate that no longer fits never will again.
    fits = (cap_left[action] >= 1) & (spend >= 0) & (spend <= budget_left[budget])
    fits &= np.arange(k)[None, :] >= start[:, None]
    first: Indexes = np.where(fits.any(axis=1), fits.argmax(axis=1), k)
    return first


def _running_total(group: Indexes, amount: Numbers) -> Numbers:
    """For each position, the sum of ``amount`` over this and earlier positions of its group."""
    result = np.empty(len(group))
    for member in np.unique(group):  # a handful of budgets or actions
        rows = group == member
        result[rows] = np.cumsum(amount[rows])
    return result


def _priority(value: Numbers, cost: Numbers, priority: Priority) -> Numbers:
    if priority == "expected_value":
        key = value
    else:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            key = np.where(cost > 0, value / cost, np.where(value > 0, np.inf, -np.inf))
    return np.where(np.isnan(key), -np.inf, key)
