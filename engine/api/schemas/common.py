"""Pieces shared by several schemas: reasons, actions, scores, versions, errors."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

FeatureValue = bool | int | float | str | None

CUSTOMER_ID = Field(
    min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$", examples=["C00000042"]
)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RequestContext(Request):
    intent: str | None = Field(
        None, description="Why the customer is in touch.", examples=["cancel_request"]
    )
    event: str | None = Field(
        None, description="The occasion of the contact.", examples=["renewal_due"]
    )


class ReasonOut(BaseModel):
    code: str = Field(description="Machine code, e.g. eligible, expected_value, price_cap.")
    rule: str | None = Field(description="The action, weight, guardrail or policy id.")
    text: str = Field(description="A sentence an agent can read.")


class ActionOut(BaseModel):
    id: str = Field(examples=["loyalty_discount_10"])
    kind: str = Field(examples=["discount"])
    group: str = Field(examples=["retention"])
    parameters: dict[str, Any] = Field(examples=[{"discount_pct": 10}])
    script: str = Field(description="What the agent says.")
    expected_value: float | None = Field(description="uplift × lifetime value − cost.")
    uplift: float | None = Field(description="How much the action lowers the churn probability.")
    cost: float | None
    score: float | None = Field(description="The ranking score.")
    reserved: bool = Field(
        description="True for the offer whose caps and budget were reserved (the first); "
        "later ones are ranked alternatives, not reserved."
    )
    reasons: list[ReasonOut]


class ReasonCodeOut(BaseModel):
    feature: str
    value: float | None
    contribution: float = Field(description="Change of the churn model's log-odds.")
    text: str = Field(examples=["The renewal premium changes by +15.0 %: raises the churn risk"])


class ScoresOut(BaseModel):
    churn_probability: float | None
    margin: float | None = Field(description="Annual margin at current terms.")
    lifetime_value: float | None = Field(description="Lifetime value if the customer renews.")
    reasons: list[ReasonCodeOut] = Field(description="Top reason codes of the churn model.")


class VersionsOut(BaseModel):
    model: str = Field(examples=["retention-bundle/3"])
    rule_set: str = Field(description="sha256 of the rule file.")


class ErrorDetail(BaseModel):
    code: str = Field(examples=["UnknownCustomer"])
    message: str
    field: str | None = None
    fields: list[dict[str, Any]] | None = None
    error_id: str | None = Field(None, description="Quote it to operators: it is in the log.")


class ErrorOut(BaseModel):
    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing or unknown API key."},
    403: {"model": ErrorOut, "description": "The key lacks the scope."},
    422: {"model": ErrorOut, "description": "A field is invalid; the body names it."},
    500: {"model": ErrorOut, "description": "Unexpected error; the body has an error id."},
    503: {"model": ErrorOut, "description": "The decision log cannot write."},
}
