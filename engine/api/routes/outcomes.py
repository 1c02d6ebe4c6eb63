"""``POST /v1/decisions/{decision_id}/outcome``: what the customer did with an offer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from engine.api.deps import Outcomes
from engine.api.responses import json_response
from engine.api.schemas.common import ERRORS, ErrorOut
from engine.api.schemas.outcomes import OutcomeRecorded, OutcomeReport
from engine.service.outcomes import record_outcome

router = APIRouter(prefix="/v1", tags=["outcomes"])

DecisionId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.post(
    "/decisions/{decision_id}/outcome",
    response_model=OutcomeRecorded,
    responses={
        **ERRORS,
        404: {"model": ErrorOut, "description": "Unknown decision."},
        409: {"model": ErrorOut, "description": "A different outcome was already recorded."},
    },
    summary="Report the outcome of an offer",
)
async def report_outcome(
    decision_id: DecisionId, body: OutcomeReport, caller: Outcomes
) -> Response:
    """Idempotent: the same outcome again returns the stored record. A decline starts the
    customer's cool-down; the outcome joins the decision in the training export."""
    runtime = caller.runtime
    recorded = await record_outcome(
        runtime.stores, runtime.answers, decision_id, body.action_id, body.outcome, body.at
    )
    return json_response(recorded)
