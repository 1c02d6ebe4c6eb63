"""Errors the HTTP layer raises itself, in the project's one tree.

RetentionError
├── Unauthorized        401  no key, or a key the key store does not know
└── Forbidden           403  a valid key without the scope of the route
"""

from __future__ import annotations

from engine.errors import RetentionError


class Unauthorized(RetentionError):  # noqa: N818 - reads as the condition
    status_code = 401


class Forbidden(RetentionError):  # noqa: N818
    status_code = 403
