"""The format of a case file (``rules/cases/*.yaml``), annotated in ``rules/cases/README.md``.

A file holds ``defaults`` (fields, scores, context shared by its cases) and ``cases``; each
case gives what differs (``fields``, ``scores``, ``context``, ``history``, ``renewal``) and
what to ``expect``. Sections of a case are merged over the defaults key by key.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

from engine.rules.document import STRICT, Name


class Strict(BaseModel):
    model_config = STRICT


Number = StrictInt | StrictFloat
FieldValue = StrictBool | StrictInt | StrictFloat | StrictStr | None
Moment = datetime | date


class CaseScores(Strict):
    p_churn: Number | None = None
    clv: Number | None = None
    margin: Number | None = None
    uplift: dict[Name, Number | None] = {}


class CaseContext(Strict):
    now: Moment | None = None
    channel: Name | None = None
    intent: Name | None = None
    event: Name | None = None


class PastOffer(Strict):
    action: Name
    days_ago: Annotated[float, Field(ge=0)]


class CaseHistory(Strict):
    offers: list[PastOffer] = []
    declined_days_ago: Annotated[float, Field(ge=0)] | None = None


class CaseRenewal(Strict):
    current_premium: Annotated[float, Field(gt=0)]
    proposed_premium: Annotated[float, Field(gt=0)]
    new_business_premium: Annotated[float, Field(gt=0)] | None = None
    churn_at: Annotated[
        list[Annotated[list[Number], Field(min_length=2, max_length=2)]], Field(min_length=1)
    ]
    """[premium, churn probability] points; linear in between, flat beyond the ends."""

    @model_validator(mode="after")
    def _probabilities(self) -> CaseRenewal:
        for premium, probability in self.churn_at:
            if not 0 <= probability <= 1:
                raise ValueError(f"churn_at: {probability} at {premium} is not a probability")
        return self


class Expectation(Strict):
    actions: list[Name] | None = None
    """Exactly these offers, in this order (``[]``: nothing offered)."""
    action_set: list[Name] | None = None
    """Exactly these offers, in any order."""
    absent: list[Name] = []
    control_group: bool | None = None
    fallback_used: bool | None = None
    reasons: list[str] = []
    """Codes (``contact_policy``) or code:rule (``context_weight:cancel_request_boost``)."""
    rejected: dict[Name, Name] = {}
    """Action id → the check it must fail (``channel_not_applicable``, ``frequency_cap``...)."""
    verdict: Literal["approve", "adjust", "review"] | None = None
    recommended_premium: Number | None = None
    renewal_action: Name | Literal[False] | None = None
    """The action offered with the renewal; ``false``: none."""


class Case(Strict):
    name: Annotated[str, Field(min_length=1)]
    customer_id: Annotated[str, Field(min_length=1)] = "case-customer"
    fields: dict[Name, FieldValue] = {}
    scores: CaseScores = CaseScores()
    context: CaseContext = CaseContext()
    history: CaseHistory = CaseHistory()
    renewal: CaseRenewal | None = None
    expect: Expectation

    @model_validator(mode="after")
    def _renewal_expectations_need_a_renewal(self) -> Case:
        expect = self.expect
        renewal_keys = (expect.verdict, expect.recommended_premium, expect.renewal_action)
        if self.renewal is None and any(value is not None for value in renewal_keys):
            raise ValueError(
                "verdict, recommended_premium and renewal_action need a renewal section"
            )
        if self.renewal is not None and (expect.rejected or expect.fallback_used is not None):
            raise ValueError("rejected and fallback_used apply to decisions, not renewal cases")
        return self


class CaseDefaults(Strict):
    fields: dict[Name, FieldValue] = {}
    scores: CaseScores = CaseScores()
    context: CaseContext = CaseContext()


class CaseFile(Strict):
    description: str = ""
    defaults: CaseDefaults = CaseDefaults()
    cases: Annotated[list[Case], Field(min_length=1)]
