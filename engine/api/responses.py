"""Answers as JSON without a second validation: the service builds them as plain dicts,
and the route's ``response_model`` documents their shape in OpenAPI."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from engine.core.json_codec import dumps


def json_response(content: Any, status_code: int = 200) -> Response:
    return Response(dumps(content), status_code=status_code, media_type="application/json")
