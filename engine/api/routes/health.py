"""``/healthz`` (the process answers), ``/readyz`` (each component), ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from engine.api.deps import RuntimeDep
from engine.api.responses import json_response
from engine.api.schemas.admin import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is alive")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Cannot answer."}},
    summary="Model, rules and stores, each with its status",
)
async def readyz(runtime: RuntimeDep) -> Response:
    """200 while decisions can be answered (possibly degraded: a store down or a rejected
    reload is shown per component); 503 when the decision log cannot write."""
    state = await run_in_threadpool(runtime.readiness)
    return json_response(state, 200 if state["ready"] else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return Response(generate_latest(request.app.state.metrics.registry),
                    media_type=CONTENT_TYPE_LATEST)  # fmt: skip
