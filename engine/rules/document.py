"""The schema of a rule file, as pydantic models that refuse unknown keys.

This is the structure only: types, ranges and required keys. Names (fields in expressions,
actions, budgets, groups, channels) are checked by ``compiler`` against each other, because a
model sees one value at a time. ``strict`` keeps YAML from being coerced: ``true`` is not
the number 1 and ``"5"`` is not 5. The annotated example is ``rules/retention.yaml``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

from .ruleset import BudgetAllocation, PriceSearch

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
"""Ids, groups, budgets, channels: lower-case letters, digits, underscores."""


def _expression_text(value: object) -> object:
    # YAML reads `cost: 40` as a number and `eligibility: true` as a bool; both are valid
    # expression texts, so they are taken as the text the author typed.
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int | float):
        return repr(value)
    return value


Expression = Annotated[str, BeforeValidator(_expression_text), Field(min_length=1)]
"""The text of a condition or formula in the expression language (engine.rules.expression)."""

Weight = Annotated[float, Field(ge=0)]
Period = Literal["day", "week", "month", "quarter", "year", "campaign"]
ActionKind = Literal[
    "discount", "price", "bundle", "service", "payment", "reward", "message", "none"
]
FieldDeclaration = Literal["number", "bool", "string"] | Annotated[list[Name], Field(min_length=1)]
"""A field's type; a list of values declares a string enum (``segment: [mass, vip]``)."""
ParameterValue = StrictBool | StrictInt | StrictFloat | StrictStr


STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)
"""Unknown keys are errors; YAML values are not coerced (``true`` is not 1, ``"5"`` not 5)."""


DEFAULT_SEARCH = PriceSearch()


class Strict(BaseModel):
    model_config = STRICT


class ContextValues(Strict):
    """The values the request context may take; expressions comparing them are checked."""

    channels: Annotated[list[Name], Field(min_length=1)]
    intents: list[Name] = []
    events: list[Name] = []


class PerCustomerCap(Strict):
    """At most ``max_offers`` of this action to one customer within ``window_days``."""

    max_offers: Annotated[int, Field(ge=0)]
    window_days: Annotated[int, Field(gt=0)]


class TotalCap(Strict):
    """At most ``max_offers`` of this action over all customers per ``period``."""

    max_offers: Annotated[int, Field(ge=0)]
    period: Period


class Caps(Strict):
    per_customer: PerCustomerCap | None = None
    total: TotalCap | None = None


class Action(Strict):
    """An offer (or ``kind: none``, doing nothing) and the rules that govern it."""

    id: Name
    group: Name
    kind: ActionKind
    description: str = ""
    reason: str = ""
    """Why a customer qualifies, in words an agent can read; shown with the offer."""
    parameters: dict[Name, ParameterValue] = {}
    cost: Expression = "0"
    channels: list[Name] | None = None
    """Channels where the action applies; absent: every channel."""
    events: list[Name] | None = None
    """Events where the action applies; absent: any event, and requests without one."""
    valid_from: date | None = None
    valid_until: date | None = None
    eligibility: Expression = "True"
    script: str = ""
    caps: Caps = Caps()
    budget: Name | None = None
    lever_weight: Weight = 1.0

    @model_validator(mode="after")
    def _dates_in_order(self) -> Action:
        if self.valid_from and self.valid_until and self.valid_from > self.valid_until:
            raise ValueError(
                f"valid_from {self.valid_from} is after valid_until {self.valid_until}"
            )
        return self


class Targets(Strict):
    """Which actions a rule applies to: these groups and these actions; both empty: all."""

    groups: list[Name] = []
    actions: list[Name] = []


class ContextWeight(Strict):
    """Multiply the score of the targeted actions by ``weight`` when ``when`` holds."""

    id: Name
    when: Expression
    weight: Weight
    applies_to: Targets = Targets()
    reason: Annotated[str, Field(min_length=1)]


class Guardrail(Strict):
    """A suitability check: the targeted actions are offered only where ``require`` holds."""

    id: Name
    require: Expression
    applies_to: Targets = Targets()
    reason: Annotated[str, Field(min_length=1)]


class Arbitration(Strict):
    formula: Expression = "uplift * clv - cost"
    min_score: Annotated[float, Field(ge=0)] = 0.0
    top_k: Annotated[int, Field(ge=1, le=20)] = 3
    lever_weights: dict[Name, Weight] = {}
    """Business levers per action group; an action's own ``lever_weight`` multiplies too."""
    context_weights: list[ContextWeight] = []
    allocation: BudgetAllocation = "expected_value"
    """How a batch run shares the budgets out when they cannot pay for every offer:
    ``expected_value`` (largest expected net value first), ``value_per_cost`` (most value
    per unit of cost first) or ``shadow_price`` (each budget priced at the value of its
    last unit, each customer given the offer of highest value net of that price)."""


class ContactPolicy(Strict):
    max_offers: Annotated[int, Field(ge=0)]
    window_days: Annotated[int, Field(gt=0)]
    cooldown_after_decline_days: Annotated[int, Field(ge=0)] = 0


class Budget(Strict):
    name: Name
    amount: Annotated[float, Field(ge=0)]
    period: Period
    description: str = ""
    min_value_per_cost: Annotated[float, Field(ge=0)] | None = None
    """The budget's shadow price, e.g. as ``rules simulate`` estimates it: an action
    charged to this budget is offered only when its expected net value is more than this
    times its cost, and ranked by its score net of this times its cost."""


class ControlGroup(Strict):
    share: Annotated[float, Field(ge=0, le=1)]
    salt: Annotated[str, Field(min_length=1)]


class PricePolicy(Strict):
    """A renewal price rule: where ``when`` holds, bound the premium, ask for review, offer."""

    id: Name
    when: Expression = "True"
    max_change_pct: Annotated[float, Field(ge=-100)] | None = None
    """Most the premium may rise over the current premium, in percent (0: no increase)."""
    max_premium: Expression | None = None
    min_premium: Expression | None = None
    review: bool = False
    offer: Name | None = None
    reason: Annotated[str, Field(min_length=1)]

    @model_validator(mode="after")
    def _has_an_effect(self) -> PricePolicy:
        bounds = (self.max_change_pct, self.max_premium, self.min_premium, self.offer)
        if all(value is None for value in bounds) and not self.review:
            raise ValueError(
                "a price policy needs an effect: max_change_pct, max_premium, min_premium,"
                " review or offer"
            )
        return self


class Pricing(Strict):
    """The renewal check's value search: which premiums it values and when the proposed
    premium is good enough. A key left out keeps its default (``ruleset.PriceSearch``)."""

    changes_pct: Annotated[
        list[Annotated[float, Field(ge=-50, le=100)]], Field(min_length=1, max_length=100)
    ] = list(DEFAULT_SEARCH.changes_pct)
    """Candidate premiums as changes over the current premium, in percent."""
    max_above_proposed_pct: Annotated[float, Field(ge=0)] | None = (
        DEFAULT_SEARCH.max_above_proposed_pct
    )
    """Most a recommended premium may exceed the proposed one, in percent (null: no limit)."""
    tolerance_pct: Annotated[float, Field(ge=0)] = DEFAULT_SEARCH.tolerance_pct
    """Approve the proposed premium within this share (percent) of the best expected value ..."""
    tolerance_amount: Annotated[float, Field(ge=0)] = DEFAULT_SEARCH.tolerance_amount
    """... or within this amount, whichever is larger."""


class RuleSetDocument(Strict):
    """A whole rule file."""

    version: Literal[1]
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    context: ContextValues
    fields: dict[Name, FieldDeclaration] = {}
    actions: Annotated[list[Action], Field(min_length=1)]
    guardrails: list[Guardrail] = []
    arbitration: Arbitration = Arbitration()
    contact_policy: ContactPolicy | None = None
    budgets: list[Budget] = []
    control_group: ControlGroup | None = None
    fallback: Name | None = None
    price_policies: list[PricePolicy] = []
    pricing: Pricing | None = None
