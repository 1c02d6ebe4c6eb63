"""A compiled rule set: everything the decision core needs, precomputed once per load.

Expressions are compiled, names resolved, lever weights multiplied out and the context
weights and guardrails that target each action listed by index, so that deciding for one
customer touches no dict of options and no pydantic model. Instances are immutable and
pickle (compiled expressions recompile), so a batch can ship them to workers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from engine.rules.expression import Condition, FieldType, Formula

from .templates import ScriptTemplate

BudgetAllocation = Literal["expected_value", "value_per_cost", "shadow_price"]
"""How a batch shares the budgets out (``engine.decision.allocation``)."""


@dataclass(frozen=True, slots=True)
class CustomerCap:
    """At most ``max_offers`` of one action to one customer within ``window``."""

    max_offers: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class TotalCap:
    """At most ``max_offers`` of one action over all customers per ``period``."""

    max_offers: int
    period: str


@dataclass(frozen=True, slots=True, eq=False)
class CompiledAction:
    index: int
    """Position in ``RuleSet.actions`` (actions of kind ``none`` are not ranked: -1)."""
    id: str
    group: str
    kind: str
    description: str
    reason: str
    """Readable reason shown when the action is eligible."""
    parameters: Mapping[str, object]
    cost: Formula
    eligibility: Condition
    channels: frozenset[str] | None
    events: frozenset[str] | None
    valid_from: date | None
    valid_until: date | None
    script: ScriptTemplate
    per_customer_cap: CustomerCap | None
    total_cap: TotalCap | None
    budget: str | None
    lever: float
    """The action's lever weight times its group's."""
    weights: tuple[int, ...]
    """Indexes of the context weights that target this action."""
    guardrails: tuple[int, ...]
    """Indexes of the guardrails that target this action."""
    budget_price: float = 0.0
    """Its budget's ``min_value_per_cost`` (0: none): offered only when the expected value
    exceeds this times the cost, and scored net of this times the cost."""

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


@dataclass(frozen=True, slots=True, eq=False)
class CompiledContextWeight:
    id: str
    when: Condition
    weight: float
    reason: str


@dataclass(frozen=True, slots=True, eq=False)
class CompiledGuardrail:
    id: str
    require: Condition
    reason: str


@dataclass(frozen=True, slots=True, eq=False)
class CompiledPricePolicy:
    id: str
    when: Condition
    max_change_pct: float | None
    max_premium: Formula | None
    min_premium: Formula | None
    review: bool
    offer: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class ContactPolicyRule:
    max_offers: int
    window: timedelta
    cooldown: timedelta


@dataclass(frozen=True, slots=True)
class BudgetRule:
    name: str
    amount: float
    period: str
    description: str
    min_value_per_cost: float = 0.0
    """The budget's shadow price: an action charged to it is offered only when its
    expected net value exceeds this many units per unit of cost (0: any positive value)."""


@dataclass(frozen=True, slots=True)
class ControlGroupRule:
    share: float
    salt: str


@dataclass(frozen=True, slots=True)
class PriceSearch:
    """Where the renewal check looks for a better premium, and when the proposed one is
    good enough (the rule file's ``pricing`` section; these defaults when it is absent)."""

    changes_pct: tuple[float, ...] = (
        -10.0, -5.0, -2.5, 0.0, 2.5, 5.0, 7.5, 10.0, 12.5, 15.0, 20.0, 25.0, 30.0,
    )  # fmt: skip
    """Candidate premiums as changes over the current premium, in percent."""
    max_above_proposed_pct: float | None = 0.0
    """Most a recommended premium may exceed the proposed one, in percent (None: no limit)."""
    tolerance_pct: float = 1.0
    """The proposed premium is approved within this share of the best expected value ..."""
    tolerance_amount: float = 5.0
    """... or within this amount, whichever is larger."""


@dataclass(frozen=True, slots=True, eq=False)
class RuleSet:
    """A validated, compiled rule file, identified by the sha256 of its bytes."""

    name: str
    description: str
    hash: str
    """sha256 of the file's bytes, hex."""
    file: str
    schema: Mapping[str, FieldType]
    """Every name a customer-level expression may use (see ``namespace``)."""
    actions: tuple[CompiledAction, ...]
    """The actions that compete in arbitration, in file order (kind ``none`` excluded)."""
    no_action: CompiledAction | None
    context_weights: tuple[CompiledContextWeight, ...]
    guardrails: tuple[CompiledGuardrail, ...]
    formula: Formula
    formula_is_expected_value: bool
    """The formula is the default ``uplift * clv - cost``: the score is the expected value."""
    min_score: float
    top_k: int
    contact_policy: ContactPolicyRule | None
    budgets: Mapping[str, BudgetRule]
    control_group: ControlGroupRule | None
    fallback: CompiledAction | None
    price_policies: tuple[CompiledPricePolicy, ...]
    channels: tuple[str, ...]
    intents: tuple[str, ...]
    events: tuple[str, ...]
    by_id: Mapping[str, CompiledAction] = field(default_factory=dict)
    pricing: PriceSearch = PriceSearch()
    """The renewal check's value search: candidate premiums and the approve tolerance."""
    allocation: BudgetAllocation = "expected_value"
    """How batch runs (``allocate_budgets``, ``rules simulate`` / ``diff``) share budgets."""

    @property
    def short_hash(self) -> str:
        return self.hash[:12]

    def action(self, action_id: str) -> CompiledAction:
        return self.by_id[action_id]

    def summary(self) -> str:
        """One line: name, hash and counts, as ``retention rules check`` prints it."""
        extras = [
            f"{len(self.actions)} actions" + (" + no_action" if self.no_action else ""),
            f"{len(self.price_policies)} price policies",
            f"{len(self.context_weights)} context weights",
            f"{len(self.guardrails)} guardrails",
            f"{len(self.budgets)} budgets",
            f"control group {self.control_group.share:.0%}" if self.control_group else "no control",
            f"fallback {self.fallback.id}" if self.fallback else "no fallback",
            f"top {self.top_k}",
            f"budgets allocated by {self.allocation}",
        ]
        return f"{self.name} sha256:{self.short_hash} ({', '.join(extras)})"
