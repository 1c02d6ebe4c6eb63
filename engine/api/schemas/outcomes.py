"""``POST /v1/decisions/{decision_id}/outcome``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from engine.api.schemas.common import Request


class OutcomeReport(Request):
    """What the customer did with an offered action. Reporting it again is harmless."""

    action_id: str = Field(min_length=1, max_length=128, examples=["loyalty_discount_10"])
    outcome: Literal["accepted", "declined", "no_response"]
    at: datetime | None = Field(None, description="When; default now. Naive times are UTC.")


class OutcomeRecorded(BaseModel):
    decision_id: str
    action_id: str
    outcome: Literal["accepted", "declined", "no_response"]
    at: str
    degraded: bool = Field(description="True when the counter store could not be told.")
