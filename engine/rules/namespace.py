"""The names an expression may use, and which expression may use which.

Three kinds of names exist: the customer fields a rule file declares (``fields:``), the
built-in scores and renewal prices the engine supplies, and the request context. Each
expression sees the names that have a value where it is evaluated:

=========================== =================================================================
expression                  names
=========================== =================================================================
context weight ``when``,    fields, scores (``p_churn clv margin``), renewal prices, context
price policy expressions
action ``cost``             the above, ``uplift`` (this action's) and the action's parameters
action ``eligibility``      the above and ``cost``
guardrail ``require``,      fields, scores, renewal prices, context, ``uplift``, ``cost``
arbitration ``formula``
agent ``script``            as action ``eligibility``
=========================== =================================================================

Renewal prices are set by the renewal check; in other decisions they come from the
customer's features when present (e.g. the book's ``proposed_premium``), else are missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.rules.expression import FieldType, StringEnum, ValueType

SCORES: Mapping[str, str] = {
    "p_churn": "calibrated churn probability at the proposed premium, no action",
    "clv": "customer lifetime value over the model's horizon",
    "margin": "annual margin",
}
PER_ACTION: Mapping[str, str] = {
    "uplift": "how much this action lowers the churn probability (negative: sleeping dog)",
    "cost": "this action's cost, from its cost expression",
}
RENEWAL: Mapping[str, str] = {
    "current_premium": "the premium the customer pays now",
    "proposed_premium": "the renewal premium proposed by pricing",
    "new_business_premium": "what a new customer with the same risk would pay",
    "p_churn_at_proposed": "churn probability at the proposed premium",
    "p_churn_at_current": "churn probability at the current premium",
}
CONTEXT: tuple[str, ...] = ("channel", "intent", "event")
BUILT_IN: frozenset[str] = frozenset({*SCORES, *PER_ACTION, *RENEWAL, *CONTEXT})


def field_type(declared: str | list[str]) -> FieldType:
    if isinstance(declared, list):
        return StringEnum.of(declared)
    return ValueType(declared)


def parameter_type(value: object) -> FieldType:
    if isinstance(value, bool):
        return ValueType.BOOL
    if isinstance(value, int | float):
        return ValueType.NUMBER
    return ValueType.STRING


@dataclass(frozen=True, slots=True)
class Namespaces:
    """The schemas expressions are checked against (see the module docstring)."""

    customer: dict[str, FieldType]
    """Fields, scores, renewal prices and context: no per-action name."""
    per_action: dict[str, FieldType]
    """``customer`` plus ``uplift`` and ``cost``."""

    @classmethod
    def build(
        cls,
        fields: Mapping[str, FieldType],
        channels: list[str],
        intents: list[str],
        events: list[str],
    ) -> Namespaces:
        customer: dict[str, FieldType] = dict(fields)
        customer.update(dict.fromkeys([*SCORES, *RENEWAL], ValueType.NUMBER))
        customer["channel"] = StringEnum.of(channels)
        # An empty list declares no values: a comparison with any literal is then a typo.
        customer["intent"] = StringEnum.of(intents)
        customer["event"] = StringEnum.of(events)
        per_action = {**customer, "uplift": ValueType.NUMBER, "cost": ValueType.NUMBER}
        return cls(customer, per_action)

    def cost(self, parameters: Mapping[str, object]) -> dict[str, FieldType]:
        schema = {name: kind for name, kind in self.per_action.items() if name != "cost"}
        schema.update({name: parameter_type(value) for name, value in parameters.items()})
        return schema

    def action(self, parameters: Mapping[str, object]) -> dict[str, FieldType]:
        schema = dict(self.per_action)
        schema.update({name: parameter_type(value) for name, value in parameters.items()})
        return schema
