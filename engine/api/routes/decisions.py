"""``POST /v1/decisions``: next-best actions for a customer in a live contact."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from engine.api.deps import Decide
from engine.api.responses import json_response
from engine.api.schemas.common import ERRORS, ErrorOut
from engine.api.schemas.decisions import DecisionRequest, DecisionResponse
from engine.service.inputs import DecisionInput

router = APIRouter(prefix="/v1", tags=["decisions"])
PATH = "/v1/decisions"  # engine.api.hot_path serves it too


def decision_input(body: DecisionRequest) -> DecisionInput:
    context = body.context
    return DecisionInput(
        customer_id=body.customer_id,
        channel=body.channel,
        intent=None if context is None else context.intent,
        event=None if context is None else context.event,
        features=body.features or {},
        limit=body.limit,
    )


@router.post(
    "/decisions",
    response_model=DecisionResponse,
    responses={**ERRORS, 404: {"model": ErrorOut, "description": "Unknown customer."}},
    summary="Decide the next-best actions",
)
async def create_decision(body: DecisionRequest, caller: Decide, request: Request) -> Response:
    """Ranked actions with scripts, value and reasons; empty means *do nothing*.

    The same customer, channel group and context get the same answer within the
    consistency window unless an outcome, a new rule set or a new model intervenes.
    """
    answer = await caller.service.decide(decision_input(body))
    request.app.state.metrics.answer("decision", answer)
    return json_response(answer)
