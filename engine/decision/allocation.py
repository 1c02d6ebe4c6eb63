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

``shadow_price`` solves the problem as what it is, a knapsack with several budgets, total
caps and one offer per customer, by its Lagrangian relaxation: ``shadow_prices`` finds, per
budget, the price λ of one euro of it (and per capped action the price of one offer) at
which the customers' own best choices just fit, where each customer's choice is the
candidate of highest *reduced value* ``value − λ × cost − μ`` if that is positive. With
many customers this is the optimum of the linear relaxation up to a few customers at the
margin. The greedy rounds above then do the repair: each customer's candidates are tried in
order of reduced value, customers in order of reduced value per unit of cost, so what the
prices leave unspent still goes to the next best. It keeps every guarantee above; λ is the
budget's shadow price, the ``min_value_per_cost`` an online decision can use (the rule
file's ``budgets``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.rules.ruleset import BudgetAllocation as Priority

from .batch import BatchDecisions, labelled
from .inputs import Numbers

Indexes = npt.NDArray[np.intp]
Mask = npt.NDArray[np.bool_]

MAX_SWEEPS: Final = 10
"""Rounds of price updates, one budget or cap at a time, before ``shadow_prices`` stops."""
PRICE_TOLERANCE: Final = 1e-2
"""Prices are final when no update moves one by more than this share (plus this amount)."""
MAX_PRICE: Final = 1e12
"""Prices are capped here (a cost of 1e-300 could otherwise ask for an infinite one); the
greedy repair keeps every budget whatever the prices."""


@dataclass(frozen=True, slots=True)
class Allocation:
    action_ids: tuple[str, ...]
    chosen: npt.NDArray[np.int16]
    """Per customer: index into ``action_ids`` of the action given, -1 for none."""
    rank: npt.NDArray[np.int8]
    """Per customer: which of their candidates (0: the best) was given, -1 for none."""
    spent: Mapping[str, float]
    offers: Mapping[str, int]
    shadow_prices: Mapping[str, float] = field(default_factory=dict)
    """Priority ``shadow_price`` only: per budget, value per unit of cost at the margin."""

    def actions(self) -> pd.Categorical[str]:
        return labelled(self.chosen, self.action_ids)


def allocate_budgets(
    batch: BatchDecisions,
    *,
    remaining_budgets: Mapping[str, float] | None = None,
    remaining_caps: Mapping[str, int] | None = None,
    priority: Priority | None = None,
) -> Allocation:
    """Allocate the batch's candidates (control rows get nothing) under the rule set's
    budgets and total caps; ``remaining_*`` override what is left (default: the full
    amounts and caps), e.g. from the counter store mid-period. ``priority`` defaults to
    the rule set's ``arbitration.allocation``."""
    rules = batch.rules
    priority = priority or rules.allocation
    budgets = list(rules.budgets)
    candidates, action_budget, amounts, action_caps = _problem(
        batch, remaining_budgets, remaining_caps
    )
    prices: dict[str, float] = {}
    if priority == "shadow_price":
        found = shadow_prices(
            candidates, batch.value, batch.cost, action_budget, amounts, action_caps
        )
        prices = {name: float(found.budgets[b]) for b, name in enumerate(budgets)}
        rank = _allocate_priced(
            candidates, batch.value, batch.cost, action_budget, amounts, action_caps, found
        )
    else:
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
    return Allocation(ids, chosen, rank, spent, offers, prices)


def budget_shadow_prices(
    batch: BatchDecisions,
    *,
    remaining_budgets: Mapping[str, float] | None = None,
    remaining_caps: Mapping[str, int] | None = None,
) -> dict[str, float]:
    """Per budget of the rule set, its shadow price on this batch (``shadow_prices``): the
    expected net value per unit of cost of the last candidates it can pay for; 0 for a
    budget that does not bind. The ``min_value_per_cost`` that makes online decisions
    spend the budget as the batch allocation ``shadow_price`` would."""
    candidates, action_budget, amounts, action_caps = _problem(
        batch, remaining_budgets, remaining_caps
    )
    found = shadow_prices(candidates, batch.value, batch.cost, action_budget, amounts, action_caps)
    return {name: float(found.budgets[b]) for b, name in enumerate(batch.rules.budgets)}


def _problem(
    batch: BatchDecisions,
    remaining_budgets: Mapping[str, float] | None,
    remaining_caps: Mapping[str, int] | None,
) -> tuple[npt.NDArray[np.int16], list[int], list[float], list[float]]:
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
    candidates = np.where(batch.control_group[:, None], -1, batch.slots).astype(np.int16)
    return candidates, action_budget, amounts, action_caps


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
    if priority == "shadow_price":
        prices = shadow_prices(candidates, value, cost, action_budget, budget_amounts, action_caps)
        return _allocate_priced(
            candidates, value, cost, action_budget, budget_amounts, action_caps, prices
        )
    key = _priority(value, cost, priority)
    return _greedy(candidates, cost, action_budget, budget_amounts, action_caps, key)


def _greedy(
    candidates: npt.NDArray[np.integer],
    cost: Numbers,
    action_budget: Sequence[int],
    budget_amounts: Sequence[float],
    action_caps: Sequence[float],
    key: Numbers,
) -> npt.NDArray[np.int8]:
    """The greedy rounds of the module docstring, customers ordered by ``key``."""
    n, k = candidates.shape
    budget_of = np.append(np.asarray(action_budget, dtype=np.intp), -1)  # [-1]: empty slot
    budget_left = np.append(np.asarray(budget_amounts, dtype=np.float64), np.inf)
    cap_left = np.append(np.asarray(action_caps, dtype=np.float64), 0.0)
    actions = np.where(candidates >= 0, candidates, len(action_budget)).astype(np.intp)
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
    key = value if priority == "expected_value" else _per_cost(value, cost)
    return np.where(np.isnan(key), -np.inf, key)


def _per_cost(value: Numbers, cost: Numbers) -> Numbers:
    """``value / cost``; for a zero cost +inf when the value is positive, else -inf."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        result: Numbers = np.where(cost > 0, value / cost, np.where(value > 0, np.inf, -np.inf))
    return result


# --- shadow prices -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShadowPrices:
    """Lagrange multipliers of the budgets and total caps (0: not binding)."""

    budgets: Numbers
    """Per budget index: value given up per unit of the budget spent."""
    caps: Numbers
    """Per action index: value given up per offer of a capped action."""

    def reduced(
        self,
        candidates: npt.NDArray[np.integer],
        value: Numbers,
        cost: Numbers,
        action_budget: Sequence[int],
    ) -> Numbers:
        """``value − λ(budget) × cost − μ(action)`` per candidate; NaN where empty."""
        actions = np.where(candidates >= 0, candidates, 0).astype(np.intp)
        lam = np.append(self.budgets, 0.0)[np.asarray(action_budget, dtype=np.intp)[actions]]
        with np.errstate(invalid="ignore", over="ignore"):
            reduced: Numbers = value - lam * cost - self.caps[actions]
        return np.where(candidates >= 0, reduced, np.nan)


def shadow_prices(
    candidates: npt.NDArray[np.integer],
    value: Numbers,
    cost: Numbers,
    action_budget: Sequence[int],
    budget_amounts: Sequence[float],
    action_caps: Sequence[float],
) -> ShadowPrices:
    """The budgets' and caps' prices at which customers' own best choices just fit.

    Each customer takes the candidate of highest reduced value ``value − λ × cost − μ``
    when it is positive (candidates with an unknown, non-positive value or an invalid cost
    take no part). Prices are found one budget or cap at a time, exactly: with the others
    held, a customer's use of the budget only falls as its price rises, in steps at known
    prices (where a candidate's reduced value meets the customer's best alternative or
    another candidate's), so one sort of those steps gives the lowest price at which the
    use fits. Rounds over all of them repeat until no price moves by more than
    ``PRICE_TOLERANCE`` (coordinate descent on the Lagrangian dual; with whole customers
    it can end in a small cycle, hence ``MAX_SWEEPS``). A budget or cap that could not
    bind even if every customer took it keeps the price 0.
    """
    n_actions = len(action_budget)
    amounts = np.asarray(budget_amounts, dtype=np.float64)
    caps = np.asarray(action_caps, dtype=np.float64)
    prices = ShadowPrices(np.zeros(len(amounts)), np.zeros(n_actions))
    usable = (candidates >= 0) & (value > 0) & (cost >= 0) & (cost < np.inf)
    rows = np.flatnonzero(usable.any(axis=1))
    usable = usable[rows]
    actions = np.where(usable, candidates[rows], n_actions).astype(np.intp)
    budget_of = np.append(np.asarray(action_budget, dtype=np.intp), -1)[actions]
    c = np.where(usable, cost[rows], 0.0)
    reduced = np.where(usable, value[rows], -np.inf)
    coordinates = [
        _Coordinate.build(usable & (budget_of == b), c, amounts[b], prices.budgets, b)
        for b in range(len(amounts))
    ]
    coordinates += [
        _Coordinate.build(usable & (actions == a), np.ones_like(c), caps[a], prices.caps, a)
        for a in range(n_actions)
        if caps[a] < np.inf
    ]
    coordinates = [coordinate for coordinate in coordinates if coordinate.can_bind]
    for _ in range(MAX_SWEEPS if len(coordinates) > 1 else 1):
        moved = False
        for coordinate in coordinates:
            moved |= coordinate.update(reduced)
        if not moved:
            break
    return prices


@dataclass(slots=True)
class _Coordinate:
    """One budget or cap of ``shadow_prices``: the customers who have a candidate using it
    (``rows``, into the usable rows) and those candidates (``member``), packed to the left
    (``order``, ``present``, ``slope``: what one of them uses per unit of the price)."""

    rows: Indexes
    member: Mask
    order: Indexes
    present: Mask
    slope: Numbers
    full_slope: Numbers
    limit: float
    prices: Numbers
    index: int
    can_bind: bool

    @classmethod
    def build(
        cls, member: Mask, slope: Numbers, limit: float, prices: Numbers, index: int
    ) -> _Coordinate:
        rows = np.flatnonzero(member.any(axis=1))
        member, full = member[rows], slope[rows]
        width = int(member.sum(axis=1).max(initial=0))
        order = np.argsort(~member, axis=1, kind="stable")[:, :width]
        present = np.take_along_axis(member, order, axis=1)
        packed = np.where(present, np.take_along_axis(full, order, axis=1), 0.0)
        most = float(packed.max(axis=1, initial=0.0).sum()) if len(rows) else 0.0
        can_bind = most > limit
        return cls(rows, member, order, present, packed, full, limit, prices, index, can_bind)

    def update(self, reduced: Numbers) -> bool:
        """Set this price to its best reply to the others; ``reduced`` (usable rows ×
        candidates, -inf: unusable) follows. Whether the price moved beyond tolerance."""
        old = float(self.prices[self.index])
        part = reduced[self.rows]
        own = np.where(self.member, old * self.full_slope, 0.0)
        alpha = part + own
        outside = np.maximum(np.where(self.member, -np.inf, alpha).max(axis=1), 0.0)
        a = np.where(self.present, np.take_along_axis(alpha, self.order, axis=1), -np.inf)
        new = _coordinate_price(a, self.slope, self.present, outside, self.limit)
        if new != old:
            reduced[self.rows] = alpha - np.where(self.member, new * self.full_slope, 0.0)
            self.prices[self.index] = new
        return abs(new - old) > PRICE_TOLERANCE * (1.0 + old)


def _coordinate_price(
    a: Numbers, s: Numbers, present: Mask, outside: Numbers, limit: float
) -> float:
    """The lowest price x >= 0 at which Σ over customers of the slope ``s`` of the member
    they choose is at most ``limit``. A member's reduced value is ``a − x × s``; a customer
    chooses the best member if it beats ``outside`` (their best non-member, or 0)."""
    if not len(a):
        return 0.0
    use_at_zero = _use(a, s, outside, np.zeros(len(a)))
    total = float(use_at_zero.sum())
    if total <= limit:
        return 0.0
    steps = _steps(a, s, outside, present)
    row, column = np.nonzero(~np.isnan(steps))  # per row in increasing price (NaN last)
    if not len(row):
        return 0.0
    # Just above each step, with a margin far above rounding (a − x × s at x = a / s is
    # rarely exactly 0) and far below the gap between two distinct steps.
    x = _above(steps[row, column])
    use = _use(a[row], s[row], outside[row], x)
    previous = np.empty_like(use)
    first = column == 0
    previous[first] = use_at_zero[row[first]]
    previous[~first] = use[np.flatnonzero(~first) - 1]
    drop = previous - use
    falls = drop > 0
    x, fall = x[falls], drop[falls]
    if not len(x):
        return 0.0
    by_price = np.argsort(x, kind="stable")
    x, left = x[by_price], total - np.cumsum(fall[by_price])
    fits = np.flatnonzero(left <= limit * (1.0 + 1e-12))
    last = int(fits[0]) if len(fits) else len(x) - 1
    return float(min(x[last], MAX_PRICE))


def _above(x: Numbers) -> Numbers:
    above: Numbers = x * (1.0 + 1e-9) + 1e-12
    return above


def _steps(a: Numbers, s: Numbers, outside: Numbers, present: Mask) -> Numbers:
    """(rows, P): sorted prices x > 0 where a customer's choice may change (NaN: none)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        found = [np.where(present & (s > 0), (a - outside[:, None]) / s, np.nan)]
        width = a.shape[1]
        for i in range(width):
            for j in range(i + 1, width):
                both = present[:, i] & present[:, j] & (s[:, i] != s[:, j])
                cross = (a[:, i] - a[:, j]) / (s[:, i] - s[:, j])
                found.append(np.where(both, cross, np.nan)[:, None])
    steps = np.concatenate(found, axis=1)
    steps = np.where(steps > 0, steps, np.nan)
    return np.sort(steps, axis=1)  # NaN sort last


def _use(a: Numbers, s: Numbers, outside: Numbers, x: Numbers) -> Numbers:
    """Per customer, just above the price ``x``, the slope of the member they take (0: an
    outside option or nothing is at least as good). Just above ``x``: of members tied at
    it the one of least slope wins, a tie with ``outside`` is lost."""
    with np.errstate(invalid="ignore", over="ignore"):
        reduced = a - x[:, None] * s
    reduced = np.where(np.isnan(reduced), -np.inf, reduced)
    top = reduced.max(axis=1)
    slope = np.where(reduced == top[:, None], s, np.inf).min(axis=1)
    return np.where(top > outside, slope, 0.0)


def _allocate_priced(
    candidates: npt.NDArray[np.integer],
    value: Numbers,
    cost: Numbers,
    action_budget: Sequence[int],
    budget_amounts: Sequence[float],
    action_caps: Sequence[float],
    prices: ShadowPrices,
) -> npt.NDArray[np.int8]:
    """The greedy rounds over each customer's candidates in order of reduced value
    (unknown values last, in their own order), customers in order of reduced value per
    unit of cost; the rank returned is the candidate's column in ``candidates``."""
    reduced = prices.reduced(candidates, value, cost, action_budget)
    ranking = np.where(np.isnan(reduced) | ~(value > 0), -np.inf, reduced)
    order = np.argsort(-ranking, axis=1, kind="stable")
    ordered = np.take_along_axis(candidates, order, axis=1)
    ordered_cost = np.take_along_axis(cost, order, axis=1)
    key = _per_cost(np.take_along_axis(ranking, order, axis=1), ordered_cost)
    key = np.where(np.isnan(key), -np.inf, key)
    rank = _greedy(ordered, ordered_cost, action_budget, budget_amounts, action_caps, key)
    given = np.flatnonzero(rank >= 0)
    original = rank.copy()
    original[given] = order[given, rank[given]]
    return original
