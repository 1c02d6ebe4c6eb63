"""JSON text of answers, log rows and digests, on the request path: orjson, not ``json``.

Serialising one decision's answer took ``json.dumps`` ~14 µs and orjson ~2 µs; a decision
serialises its answer twice (the HTTP body, the log row) plus its request and an inputs
digest (bench/results/service.md). Differences from ``json.dumps`` that matter here:
numpy scalars are written as numbers (a model's float64 may reach an answer); NaN and
infinities are written as ``null`` (an answer is still valid JSON, where ``json.dumps``
with ``allow_nan=False`` raised); datetimes are *not* written (a non-JSON value in a log
row fails its own caller with ``TypeError``, as before); keys must be strings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_PASSTHROUGH_DATETIME


def dumps(
    value: Any, *, sort_keys: bool = False, default: Callable[[Any], Any] | None = None
) -> bytes:
    """Compact UTF-8 JSON; ``TypeError`` (``orjson.JSONEncodeError``) for a non-JSON value."""
    options = _OPTIONS | orjson.OPT_SORT_KEYS if sort_keys else _OPTIONS
    return orjson.dumps(value, default=default, option=options)
