"""``POST /v1/decisions`` served below FastAPI's request machinery, when the request is good.

A decision is the product's busiest call. FastAPI's path for it (the middleware stack,
routing, dependency solving, body parsing, the endpoint wrapper) cost the worker's one
thread ~0.3 ms of CPU per request on this machine, as much as scoring, rules and both
Redis round trips together (bench/results/service.md). This ASGI middleware does the same
work directly for a request that will succeed: it reads the body, parses and validates it
with the route's own model (``DecisionRequest``, as FastAPI would: JSON first, then the
model), authenticates the key as the route's dependency does, and calls the same service.

Every other request goes to the FastAPI app untouched, and so does any request this path
would have to *refuse*: bad JSON, a body the model rejects, a missing, unknown or
under-scoped key, the service not ready. Nothing has happened yet at that point (no
reservation, no log row), so the app, given the same body, answers exactly as it always
does: one implementation of every error body. An error raised *by the decision* (unknown
customer, log unavailable...) is answered by the app's own exception handler for it, as
FastAPI would. The route stays declared in FastAPI, so OpenAPI documents it unchanged.
"""

from __future__ import annotations

import inspect
from typing import Any

import orjson
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.api.deps import DECIDE_SCOPE
from engine.api.metrics import Metrics
from engine.api.responses import json_response
from engine.api.routes.decisions import PATH, decision_input
from engine.api.schemas.decisions import DecisionRequest
from engine.service.runtime import Runtime

JSON = "application/json"  # other JSON media types (``+json``) take FastAPI's route


class DecisionHotPath:
    """Serves good ``POST /v1/decisions`` requests itself; hands the rest to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.served = 0  # decisions answered here rather than by the FastAPI route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body, more = await _read_body(receive)
        replay = _Replay(body, more, receive)
        ready = _admitted(scope, body) if more is None else None
        if ready is None:
            await self.app(scope, replay, send)
            return
        runtime, request = ready
        self.served += 1
        app = scope["app"]
        try:
            answer = await runtime.service.decide(decision_input(request))
        except Exception as exc:  # the app's handler for it, as FastAPI would call it
            response = await _handled(app, Request(scope, replay), exc)
        else:
            metrics: Metrics = app.state.metrics
            metrics.answer("decision", answer)
            response = json_response(answer)
        scope["route"] = _ROUTE  # the latency histogram's label, as the router would set
        await response(scope, replay, send)


class _Route:
    path = PATH


_ROUTE = _Route()


def _admitted(scope: Scope, body: bytes) -> tuple[Runtime, DecisionRequest] | None:
    """The runtime and the validated request, or None when the app must answer (it will
    refuse: the body or the key is not good, or the service is not ready)."""
    runtime: Runtime | None = getattr(scope["app"].state, "runtime", None)
    if runtime is None:
        return None
    content_type, authorization = None, None
    for name, value in scope["headers"]:
        if name == b"content-type" and content_type is None:
            content_type = value.decode("latin-1")
        elif name == b"authorization" and authorization is None:
            authorization = value.decode("latin-1")
    # FastAPI reads the body as JSON only under a JSON media type (strict content type).
    if content_type is None or content_type.split(";", 1)[0].strip().lower() != JSON:
        return None
    scheme, key = get_authorization_scheme_param(authorization)
    if not key or scheme.lower() != "bearer":
        return None
    record = runtime.keys.authenticate(key)
    if record is None or not record.allows(DECIDE_SCOPE):
        return None
    try:
        request = DecisionRequest.model_validate(orjson.loads(body))
    except (orjson.JSONDecodeError, ValidationError):
        return None
    return runtime, request


async def _read_body(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole body; or what was read and the message that ended it early (a
    disconnect), for the app to see as it would have."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


class _Replay:
    """A ``receive`` that gives the body already read, then the connection's own."""

    def __init__(self, body: bytes, ended: Message | None, receive: Receive) -> None:
        self._pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]
        if ended is not None:
            self._pending = [{"type": "http.request", "body": body, "more_body": True}, ended]
        self._receive = receive

    async def __call__(self) -> Message:
        if self._pending:
            return self._pending.pop(0)
        return await self._receive()


async def _handled(app: Any, request: Request, exc: Exception) -> Response:
    handlers: dict[Any, Any] = app.exception_handlers
    for kind in type(exc).__mro__:
        handler = handlers.get(kind)
        if handler is not None:
            response = handler(request, exc)
            if inspect.isawaitable(response):
                response = await response
            return response  # type: ignore[no-any-return]
    raise exc
