"""The core's results as JSON-ready dicts: what the API returns and the decision log keeps.

Built once per decision as plain dicts (no pydantic on the hot path); the API's response
schemas document the same shape. Floats that could not be computed are ``null``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from engine.decision import Candidate, Reason
from engine.rules import CompiledAction
from engine.service.scoring import ReasonCode


def number(value: float | None, digits: int = 6) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def reason(item: Reason) -> dict[str, Any]:
    return {"code": item.code, "rule": item.rule, "text": item.text}


def reasons(items: Iterable[Reason]) -> list[dict[str, Any]]:
    return [reason(r) for r in items]


def action(candidate: Candidate, *, reserved: bool) -> dict[str, Any]:
    return {
        "id": candidate.action_id,
        "kind": candidate.kind,
        "group": candidate.group,
        "parameters": _plain(candidate.parameters),
        "script": candidate.script,
        "expected_value": number(candidate.expected_value, 2),
        "uplift": number(candidate.uplift, 4),
        "cost": number(candidate.cost, 2),
        "score": number(candidate.score, 4),
        "reserved": reserved,
        "reasons": reasons(candidate.reasons),
    }


def fallback_action(fallback: CompiledAction) -> dict[str, Any]:
    """The declared fallback without a customer record (degraded: no features, no scores)."""
    try:
        script = fallback.script.render({})
    except (KeyError, TypeError, ValueError):
        script = fallback.description
    return {
        "id": fallback.id,
        "kind": fallback.kind,
        "group": fallback.group,
        "parameters": _plain(fallback.parameters),
        "script": script,
        "expected_value": None,
        "uplift": None,
        "cost": None,
        "score": None,
        "reserved": False,
        "reasons": [{"code": "fallback", "rule": fallback.id, "text": fallback.reason}],
    }


def scores(
    p_churn: float, margin: float, clv: float, codes: Iterable[ReasonCode]
) -> dict[str, Any]:
    return {
        "churn_probability": number(p_churn, 4),
        "margin": number(margin, 2),
        "lifetime_value": number(clv, 2),
        "reasons": [
            {
                "feature": c.feature,
                "value": c.value,
                "contribution": c.contribution,
                "text": c.text,
            }
            for c in codes
        ],
    }


def _plain(values: Mapping[str, object]) -> dict[str, Any]:
    return {
        k: (v if isinstance(v, bool | int | float | str) or v is None else str(v))
        for k, v in values.items()
    }
