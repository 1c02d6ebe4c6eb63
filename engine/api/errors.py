"""One place maps every error to a JSON body: ``{"error": {"code", "message", ...}}``.

* ``RetentionError`` and subclasses: their ``status_code`` and their own message (our
  messages name the problem, never a secret or a customer's data).
* Request validation: 422 naming each field (400 for a body that is not JSON at all).
* Anything else: 500 with a fresh ``error_id`` that is logged with the traceback; the
  client never sees the exception's text.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import RetentionError

logger = logging.getLogger("engine.api")


def error_body(error: RetentionError) -> dict[str, Any]:
    detail: dict[str, Any] = {"code": type(error).__name__, "message": error.message}
    field = getattr(error, "field", None)
    if field is not None:
        detail["field"] = field
    return detail


def _retention_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RetentionError):  # registered for this class only
        raise exc
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    if exc.status_code >= 500:
        logger.warning("%s %s -> %d %s", request.method, request.url.path, exc.status_code,
                       type(exc).__name__)  # fmt: skip
    return JSONResponse({"error": error_body(exc)}, exc.status_code, headers=headers)


def _field(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in location]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] if parts[0] == "body" else parts
    return ".".join(parts) or "body"


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # registered for this class only
        raise exc
    problems = exc.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        invalid = {"code": "InvalidJSON", "message": "the request body is not valid JSON",
                   "field": "body"}  # fmt: skip
        return JSONResponse({"error": invalid}, 400)
    fields = [{"field": _field(p.get("loc", ())), "message": p.get("msg", "invalid")}
              for p in problems]  # fmt: skip
    first = fields[0] if fields else {"field": "body", "message": "invalid"}
    body: dict[str, Any] = {
        "code": "ValidationError",
        "message": f"{first['field']}: {first['message']}",
        "field": first["field"],
        "fields": fields,
    }
    return JSONResponse({"error": body}, 422)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):  # registered for this class only
        raise exc
    body = {"code": "HTTPError", "message": str(exc.detail)}
    return JSONResponse({"error": body}, exc.status_code, headers=exc.headers)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    error_id = uuid.uuid4().hex
    logger.error("error %s on %s %s", error_id, request.method, request.url.path,
                 exc_info=(type(exc), exc, exc.__traceback__))  # fmt: skip
    body = {"code": "InternalError", "message": "unexpected error; quote the error id",
            "error_id": error_id}  # fmt: skip
    return JSONResponse({"error": body}, 500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RetentionError, _retention_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
