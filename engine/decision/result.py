"""What the decision core answers: frozen values the service serialises and logs as they are.

A reason is a short machine code (for dashboards and tests), the rule it refers to, and a
sentence an agent can read. Numbers that could not be computed (a missing score) are None.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Verdict = Literal["approve", "adjust", "review"]


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    """e.g. ``eligible``, ``context_weight``, ``expected_value``, ``price_cap``, ``fallback``."""
    rule: str | None
    """The action, weight, guardrail or policy id the reason refers to."""
    text: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """One ranked action, ready to show an agent."""

    action_id: str
    kind: str
    group: str
    parameters: Mapping[str, object]
    script: str
    expected_value: float | None
    """uplift × clv − cost; None when a score is missing (possible for fallback/rewards only)."""
    score: float | None
    """The ranking score: formula × lever weights × context weights."""
    uplift: float | None
    cost: float
    budget: str | None
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why an action was not offered: the first check it failed (see ``codes``)."""

    action_id: str
    code: str
    rule: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """Ranked next-best actions for one customer (empty: do nothing).

    Contact policy, eligibility and value are applied; budgets and total caps are not: the
    caller reserves them for ``candidates`` in order and takes the first that succeeds.
    """

    customer_id: str
    candidates: tuple[Candidate, ...]
    control_group: bool
    """In the hold-out group: nothing is offered; ``held_back`` is what would have been."""
    fallback_used: bool
    rule_set_hash: str
    reasons: tuple[Reason, ...]
    rejected: tuple[Rejection, ...]
    held_back: tuple[Candidate, ...] = ()

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def action_ids(self) -> tuple[str, ...]:
        return tuple(candidate.action_id for candidate in self.candidates)


@dataclass(frozen=True, slots=True)
class RenewalVerdict:
    """Whether a renewal premium is safe, and what it should be."""

    customer_id: str
    verdict: Verdict
    current_premium: float
    proposed_premium: float
    recommended_premium: float
    p_churn_at_proposed: float | None
    p_churn_at_recommended: float | None
    expected_value_at_proposed: float | None
    """(1 − churn probability) × (clv + premium − current premium), at the proposed premium;
    None when a score is missing."""
    expected_value_at_recommended: float | None
    action: Candidate | None
    """A retention action to go with the renewal: a price policy's offer, else the top
    candidate of the regular decision."""
    policies: tuple[str, ...]
    """The price policies whose condition held, in file order."""
    reasons: tuple[Reason, ...]
    control_group: bool
    rule_set_hash: str
