"""The policies a simulation compares, each allocated under the rule set's budgets and caps.

Each policy is a ranked list of candidate actions per customer and a priority; the engine's
own greedy allocation (``engine.decision.allocate``) then gives each customer at most one
candidate, never overspending a budget or a total cap. See the package docstring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from engine.decision import Allocation, allocate, allocate_budgets
from engine.rules.ruleset import BudgetAllocation as Priority
from training.simulation.matrices import ActionMatrices, Mask, Numbers, TrueValues

ENGINE: Final = "engine"
NO_ACTION: Final = "no_action"
TOP_DECILE: Final = "top_decile_discount_10"
CHEAPEST: Final = "cheapest_offer"
ORACLE: Final = "oracle"
ORACLE_WITHIN_RULES: Final = "oracle_within_rules"
ORACLE_GREEDY: Final = "oracle_greedy"
ORACLE_PER_COST: Final = "oracle_value_per_cost"
ORACLE_SHADOW_PRICE: Final = "oracle_shadow_price"
TOP_DECILE_ACTION: Final = "loyalty_discount_10"
TOP_SHARE: Final = 0.10

Chosen = npt.NDArray[np.int16]


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    chosen: Chosen
    """Per customer: index of the action given (``ActionMatrices.ids``), -1 for none."""
    matrices: ActionMatrices

    def per_row(self, matrix: Numbers) -> Numbers:
        """Row ``i``: ``matrix[i, chosen[i]]``; 0 for customers given nothing."""
        given = self.chosen >= 0
        index = np.where(given, self.chosen, 0).astype(np.intp)
        picked = np.take_along_axis(matrix, index[:, None], axis=1)[:, 0]
        return np.where(given, np.nan_to_num(picked, nan=0.0), 0.0)

    def spent(self) -> dict[str, float]:
        """Booked cost per budget (what the allocation charged)."""
        cost = self.per_row(chargeable_cost(self.matrices))
        rules = self.matrices.rules
        out = {}
        for name in rules.budgets:
            members = [a.index for a in rules.actions if a.budget == name]
            out[name] = float(cost[np.isin(self.chosen, members)].sum())
        return out


def all_policies(m: ActionMatrices, engine_allocation: Allocation | None = None) -> list[Policy]:
    """Every policy the data allows (the oracles need truth; the top-decile baseline needs
    its action in the rule set). ``engine_allocation``: the engine's, if already made."""
    made = engine_allocation
    builders: list[tuple[str, Callable[[ActionMatrices], Chosen | None]]] = [
        (ENGINE, lambda m: engine(m) if made is None else made.chosen),
        (NO_ACTION, lambda m: np.full(m.rows, -1, dtype=np.int16)),
        (TOP_DECILE, top_decile),
        (CHEAPEST, cheapest),
    ]
    found = []
    for name, build in builders:
        chosen = build(m)
        if chosen is not None:
            found.append(Policy(name, chosen, m))
    if m.truth is not None:
        unrestricted = oracle_allocations(m, m.truth, within_rules=False)
        within = oracle_allocations(m, m.truth, within_rules=True)
        found.append(Policy(ORACLE, best_oracle(m, m.truth, unrestricted), m))
        found.append(Policy(ORACLE_WITHIN_RULES, best_oracle(m, m.truth, within), m))
        found += [Policy(name, chosen, m) for name, chosen in unrestricted.items()]
    return found


def engine(m: ActionMatrices) -> Chosen:
    """The rule set's candidates, allocated as its ``arbitration.allocation`` says."""
    return allocate_budgets(m.batch).chosen


def top_decile(m: ActionMatrices) -> Chosen | None:
    if TOP_DECILE_ACTION not in m.ids:
        return None
    i = m.ids.index(TOP_DECILE_ACTION)
    count = int(np.ceil(TOP_SHARE * m.rows))
    risk = np.nan_to_num(m.p_churn, nan=-np.inf)
    top = np.zeros(m.rows, dtype=np.bool_)
    top[np.argsort(-risk, kind="stable")[:count]] = True
    candidates = np.where(top & m.allowed[:, i], i, -1).astype(np.int16)[:, None]
    return _allocated(m, candidates, risk[:, None])


def cheapest(m: ActionMatrices) -> Chosen:
    valid = m.qualifies & _valued(m)
    order_key = np.where(valid, -m.booked_cost, -np.inf)  # cheapest first
    risk = np.nan_to_num(m.p_churn, nan=-np.inf)
    return _ranked(m, valid, order_key, np.broadcast_to(risk[:, None], valid.shape))


def oracle_allocations(
    m: ActionMatrices, truth: TrueValues, *, within_rules: bool
) -> dict[str, Chosen]:
    """The oracle's three ways of allocating the budgets over the true net values
    (``truth``: ``m.truth``): every action the context allows with a positive true net value
    (``within_rules``: only those the rule set's eligibility and guardrails also allow),
    allocated

    - ``oracle_greedy``: largest true net value first; the exact optimum when no budget or
      cap binds (every customer gets their best action);
    - ``oracle_value_per_cost``: most true value per unit of booked cost first (free
      positive value first), a knapsack heuristic;
    - ``oracle_shadow_price``: the Lagrangian knapsack (``engine.decision.allocation``,
      priority ``shadow_price``): each budget and cap priced so that every customer's best
      true value net of the prices just fits, then repaired greedily; within a few
      customers of the optimum of the linear relaxation."""
    net = truth.net_value
    valid = m.allowed & truth.valued[None, :] & (net > 0)
    if within_rules:
        valid &= m.qualifies
    key = np.where(valid, net, -np.inf)
    cost = chargeable_cost(m)
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(valid, np.where(cost > 0, net / cost, np.inf), -np.inf)
    return {
        ORACLE_GREEDY: _ranked(m, valid, key, key),
        ORACLE_PER_COST: _ranked(m, valid, density, density),
        ORACLE_SHADOW_PRICE: _ranked(m, valid, key, key, "shadow_price"),
    }


def best_oracle(m: ActionMatrices, truth: TrueValues, allocations: dict[str, Chosen]) -> Chosen:
    """Of ``allocations``, the one of highest total true net value (the oracle knows it).
    No allocation here is a proven optimum when a budget binds, so the oracle takes the
    best it can find rather than one heuristic's answer."""
    net = truth.net_value
    return max(allocations.values(), key=lambda c: float(Policy("", c, m).per_row(net).sum()))


def _valued(m: ActionMatrices) -> Mask:
    """The actions whose effect can be valued: in the truth, else with an uplift score."""
    if m.truth is not None:
        return np.broadcast_to(m.truth.valued[None, :], m.uplift.shape)
    return ~np.isnan(m.uplift)


def _ranked(
    m: ActionMatrices,
    valid: Mask,
    order_key: Numbers,
    priority: Numbers,
    how: Priority = "expected_value",
) -> Chosen:
    """Candidates per row in decreasing ``order_key`` (valid ones only), then allocated;
    ``priority`` is the value the allocation ``how`` reads."""
    order = np.argsort(-order_key, axis=1, kind="stable")
    present = np.take_along_axis(valid, order, axis=1)
    width = max(int(present.sum(axis=1).max(initial=0)), 1)
    candidates = np.where(present, order, -1)[:, :width].astype(np.int16)
    key = np.take_along_axis(priority, order, axis=1)[:, :width]
    return _allocated(m, candidates, key, how)


def _allocated(
    m: ActionMatrices,
    candidates: npt.NDArray[np.int16],
    priority: Numbers,
    how: Priority = "expected_value",
) -> Chosen:
    """Run the engine's allocation over ``candidates`` ((rows, K), -1: empty)."""
    gather = np.where(candidates >= 0, candidates, 0).astype(np.intp)
    cost = np.take_along_axis(chargeable_cost(m), gather, axis=1)
    cost = np.where(candidates >= 0, cost, np.nan)
    key = np.where(candidates >= 0, priority, np.nan)
    rules = m.rules
    budgets = list(rules.budgets)
    action_budget = [budgets.index(a.budget) if a.budget else -1 for a in rules.actions]
    amounts = [rule.amount for rule in rules.budgets.values()]
    caps = [float(a.total_cap.max_offers) if a.total_cap else np.inf for a in rules.actions]
    rank = allocate(candidates, key, cost, action_budget, amounts, caps, how)
    chosen = np.full(m.rows, -1, dtype=np.int16)
    rows = np.flatnonzero(rank >= 0)
    chosen[rows] = candidates[rows, rank[rows]]
    return chosen


def chargeable_cost(m: ActionMatrices) -> Numbers:
    """Booked cost; where the model cannot book it (no uplift score), the true cost."""
    if m.truth is None:
        return m.booked_cost
    return np.where(np.isnan(m.booked_cost), m.truth.cost, m.booked_cost)
