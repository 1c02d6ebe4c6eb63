"""Why an action was not offered: the first check it failed, in this fixed order.

The order is the order of the checks in both evaluators (per customer and vectorised), so
both report the same code for the same customer. Cheap checks come first; checks that
need an expression come after, value last.
"""

from __future__ import annotations

import enum


class Check(enum.IntEnum):
    OFFERED = 0
    NOT_VALID_NOW = 1
    """Outside the action's valid_from / valid_until dates."""
    CHANNEL = 2
    """The request's channel is not one of the action's channels."""
    EVENT = 3
    """The request's event is not one of the action's events."""
    CONTACT_POLICY = 4
    """Too many offers in the contact window, or cooling down after a decline."""
    FREQUENCY_CAP = 5
    """This action was offered to the customer too often within its window."""
    NO_UPLIFT = 6
    """No uplift score for this action."""
    NOT_ELIGIBLE = 7
    GUARDRAIL = 8
    """A suitability guardrail does not hold (the rejection names it)."""
    COST_INVALID = 9
    """The cost expression gave a missing or negative value."""
    NOT_WORTH_IT = 10
    """Expected value (uplift × clv − cost) is not positive: doing nothing is better."""
    BELOW_BUDGET_PRICE = 11
    """Expected value per unit of cost not above its budget's ``min_value_per_cost``."""
    BELOW_MIN_SCORE = 12
    RANKED_OUT = 13
    """Worth offering, but others ranked higher (beyond top-K)."""

    @property
    def code(self) -> str:
        return _CODES[self]


_CODES = {
    Check.OFFERED: "offered",
    Check.NOT_VALID_NOW: "not_valid_now",
    Check.CHANNEL: "channel_not_applicable",
    Check.EVENT: "event_not_applicable",
    Check.CONTACT_POLICY: "contact_policy",
    Check.FREQUENCY_CAP: "frequency_cap",
    Check.NO_UPLIFT: "no_uplift",
    Check.NOT_ELIGIBLE: "not_eligible",
    Check.GUARDRAIL: "guardrail",
    Check.COST_INVALID: "cost_invalid",
    Check.NOT_WORTH_IT: "not_worth_it",
    Check.BELOW_BUDGET_PRICE: "below_budget_price",
    Check.BELOW_MIN_SCORE: "below_min_score",
    Check.RANKED_OUT: "ranked_out",
}


CODES: tuple[str, ...] = tuple(_CODES[check] for check in Check)
"""``Check(i).code`` by index, without building the enum member (hot path)."""
