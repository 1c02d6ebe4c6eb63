"""Answers as JSON without a second validation: the service builds them as plain dicts,
and the route's ``response_model`` documents their shape in OpenAPI."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Response


def json_response(content: Any, status_code: int = 200) -> Response:
    body = json.dumps(content, separators=(",", ":"), allow_nan=False).encode()
    return Response(body, status_code=status_code, media_type="application/json")
