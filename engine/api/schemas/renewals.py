"""``POST /v1/renewals/check`` and its batch form."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.api.schemas.common import (
    CUSTOMER_ID,
    ActionOut,
    ErrorDetail,
    FeatureValue,
    ReasonOut,
    Request,
    RequestContext,
    ScoresOut,
    VersionsOut,
)

MAX_BATCH = 1_000


class RenewalCheck(Request):
    """Is this renewal premium safe? What should it be?"""

    customer_id: Annotated[str, CUSTOMER_ID]
    current_premium: float = Field(gt=0, allow_inf_nan=False, examples=[1200.0])
    proposed_premium: float = Field(gt=0, allow_inf_nan=False, examples=[1380.0])
    new_business_premium: float | None = Field(None, gt=0, allow_inf_nan=False)
    channel: str | None = Field(None, description="Channel of the renewal offer, if any.")
    context: RequestContext | None = Field(None, description="Default: event renewal_due.")
    features: dict[str, FeatureValue] | None = None

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "C00000042",
                    "current_premium": 1200.0,
                    "proposed_premium": 1380.0,
                    "new_business_premium": 1450.0,
                }
            ]
        },
    )


class PriceOut(BaseModel):
    premium: float | None
    churn_probability: float | None
    expected_value: float | None = Field(
        description="(1 − churn) × (lifetime value + premium − current premium)."
    )


class RenewalVerdict(BaseModel):
    decision_id: str
    customer_id: str
    created_at: str
    verdict: Literal["approve", "adjust", "review"]
    current_premium: float
    proposed_premium: float
    new_business_premium: float | None
    recommended_premium: float | None
    at_proposed: PriceOut
    at_recommended: PriceOut
    action: ActionOut | None = Field(description="A retention action to go with the renewal.")
    policies: list[str] = Field(description="Price policies whose condition held.")
    reasons: list[ReasonOut]
    scores: ScoresOut | None
    control_group: bool
    degraded: bool
    degraded_reasons: list[str]
    versions: VersionsOut
    reused: bool


class RenewalBatch(Request):
    items: list[RenewalCheck] = Field(min_length=1, max_length=MAX_BATCH)


class RenewalBatchItem(BaseModel):
    index: int
    status: int = Field(description="HTTP status this item would have had alone.")
    result: RenewalVerdict | None = None
    error: ErrorDetail | None = None


class RenewalBatchResult(BaseModel):
    results: list[RenewalBatchItem]
    errors: int
