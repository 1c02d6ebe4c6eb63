"""``POST /v1/decisions``: the request and the answer."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from engine.api.schemas.common import (
    CUSTOMER_ID,
    ActionOut,
    FeatureValue,
    ReasonOut,
    Request,
    RequestContext,
    ScoresOut,
    VersionsOut,
)


class DecisionRequest(Request):
    """Ask for the next-best actions for a customer in a live contact."""

    customer_id: Annotated[str, CUSTOMER_ID]
    channel: str = Field(
        description="Where the customer is: call_center, branch, web, app, email, sms "
        "(or a rule-set channel such as agent).",
        examples=["call_center"],
    )
    context: RequestContext | None = None
    features: dict[str, FeatureValue] | None = Field(
        None,
        description="Customer features that override the stored ones (or replace them for "
        "a customer the store does not know).",
        examples=[{"complaints_12m": 2, "satisfaction": 4}],
    )
    limit: int | None = Field(None, ge=1, le=20, description="At most this many actions.")

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "C00000042",
                    "channel": "call_center",
                    "context": {"intent": "cancel_request", "event": "renewal_due"},
                    "limit": 3,
                }
            ]
        },
    )


class DecisionResponse(BaseModel):
    """Ranked actions (empty: do nothing), the scores behind them and the versions used."""

    decision_id: str = Field(description="Quote it when reporting the outcome.")
    customer_id: str
    channel: str
    channel_group: str = Field(description="Channels of one group share one answer.")
    created_at: str
    actions: list[ActionOut]
    scores: ScoresOut | None = Field(description="None when no customer data was available.")
    reasons: list[ReasonOut] = Field(description="Why this answer (and why nothing, if empty).")
    control_group: bool
    degraded: bool
    degraded_reasons: list[str]
    versions: VersionsOut
    reused: bool = Field(description="True when this is the consistent answer given earlier.")
