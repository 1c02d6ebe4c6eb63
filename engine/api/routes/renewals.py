"""``POST /v1/renewals/check`` and ``POST /v1/renewals/check:batch``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from engine.api.deps import Pricing
from engine.api.errors import error_body
from engine.api.responses import json_response
from engine.api.schemas.common import ERRORS, ErrorOut
from engine.api.schemas.renewals import (
    RenewalBatch,
    RenewalBatchResult,
    RenewalCheck,
    RenewalVerdict,
)
from engine.errors import RetentionError
from engine.service.inputs import RenewalInput

router = APIRouter(prefix="/v1/renewals", tags=["renewals"])


def _input(body: RenewalCheck) -> RenewalInput:
    context = body.context
    return RenewalInput(
        customer_id=body.customer_id,
        current_premium=body.current_premium,
        proposed_premium=body.proposed_premium,
        new_business_premium=body.new_business_premium,
        channel=body.channel,
        intent=None if context is None else context.intent,
        event="renewal_due" if context is None or context.event is None else context.event,
        features=body.features or {},
    )


@router.post(
    "/check",
    response_model=RenewalVerdict,
    responses={**ERRORS, 404: {"model": ErrorOut, "description": "Unknown customer."}},
    summary="Check a renewal premium",
)
async def check_renewal(body: RenewalCheck, caller: Pricing, request: Request) -> Response:
    """Verdict (approve / adjust / review), recommended premium, churn and expected value
    at the proposed and recommended premium, the price policies that fired, and an
    optional retention action."""
    answer = await caller.service.check_renewal(_input(body))
    request.app.state.metrics.answer("renewal", answer)
    return json_response(answer)


@router.post(
    "/check:batch",
    response_model=RenewalBatchResult,
    responses=ERRORS,
    summary="Check up to 1,000 renewals",
)
async def check_renewals(body: RenewalBatch, caller: Pricing, request: Request) -> Response:
    """One result per item, in order; an item that fails carries its own error and status."""
    outcomes = await caller.service.check_renewals([_input(item) for item in body.items])
    results = []
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, RetentionError):
            error = error_body(outcome)
            results.append({"index": index, "status": outcome.status_code, "error": error})
        else:
            request.app.state.metrics.answer("renewal", outcome)
            results.append({"index": index, "status": 200, "result": outcome})
    errors = sum(1 for r in results if r["status"] != 200)
    return json_response({"results": results, "errors": errors})
