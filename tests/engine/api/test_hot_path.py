"""``POST /v1/decisions`` answers the same through the hot path as through FastAPI's route:
two servers with identical state, one request after another, every status and body equal."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from engine.api.hot_path import DecisionHotPath
from engine.auth.keys import KeyFile
from engine.core.config import Settings
from retention.commands.quickstart import Prepared

from .conftest import running

pytestmark = pytest.mark.integration


def cases(trained: Prepared, pricing_key: str) -> list[tuple[str, bytes, dict[str, str]]]:
    known = trained.example_customer
    auth = {"Authorization": f"Bearer {trained.token}"}
    js = {**auth, "Content-Type": "application/json"}

    def body(**fields: Any) -> bytes:
        return json.dumps(fields).encode()

    context = {"intent": "cancel_request", "event": "renewal_due"}
    good = body(customer_id=known, channel="call_center", context=context, limit=2)
    inline = {"tenure_years": 6, "complaints_12m": 2, "satisfaction": 3, "margin": 400.0,
              "annual_premium": 900.0, "segment": "mass"}  # fmt: skip
    nan = b'{"customer_id": "%s", "channel": "web", "features": {"margin": NaN}}' % known.encode()
    return [
        ("a good request", good, js),
        ("no limit, no context", body(customer_id=known, channel="web"), js),
        ("inline features", body(customer_id=known, channel="branch", features=inline), js),
        ("unknown customer", body(customer_id="nobody", channel="web"), js),
        ("unknown, inline", body(customer_id="nobody", channel="web", features=inline), js),
        ("unknown intent", body(customer_id=known, channel="web", context={"intent": "x"}), js),
        ("unknown channel", body(customer_id=known, channel="fax"), js),
        ("limit 0", body(customer_id=known, channel="web", limit=0), js),
        ("an extra field", body(customer_id=known, channel="web", colour="red"), js),
        ("a wrong feature", body(customer_id=known, channel="web", features={"age": "old"}), js),
        ("no channel", body(customer_id=known), js),
        ("not JSON", b"{not json", js),
        ("NaN (Python's JSON reads it)", nan, js),
        ("an empty body", b"", js),
        ("a JSON array", b"[1, 2]", js),
        ("no content type", good, auth),
        ("text/plain", good, {**auth, "Content-Type": "text/plain"}),
        ("+json media type", good, {**auth, "Content-Type": "application/vnd.x+json"}),
        ("charset", good, {**auth, "Content-Type": "Application/JSON; charset=utf-8"}),
        ("lower-case scheme", good, {**js, "Authorization": f"bearer {trained.token}"}),
        ("no key", good, {"Content-Type": "application/json"}),
        ("an unknown key", good, {**js, "Authorization": "Bearer rk_nope"}),
        ("another scheme", good, {**js, "Authorization": f"Basic {trained.token}"}),
        ("a key without the scope", good, {**js, "Authorization": f"Bearer {pricing_key}"}),
    ]


def hot_path_of(app: Any) -> DecisionHotPath | None:
    node = app.middleware_stack
    while node is not None and not isinstance(node, DecisionHotPath):
        node = getattr(node, "app", None)
    return node


def comparable(response: Any) -> tuple[int, str | None, str | None, Any]:
    payload = response.json()
    if isinstance(payload, dict):  # fresh on every decision
        payload = {k: v for k, v in payload.items() if k not in ("decision_id", "created_at")}
    return (
        response.status_code,
        response.headers.get("content-type"),
        response.headers.get("www-authenticate"),
        payload,
    )


def test_the_hot_path_answers_exactly_as_fastapi_does(
    trained: Prepared, settings_for: Callable[..., Settings], tmp_path: Any
) -> None:
    pricing_key = KeyFile(trained.keys_file).create("pricing-hot-path", ["pricing"])
    hot_settings = settings_for(database_url=f"sqlite:///{tmp_path / 'hot.db'}",
                                consistency_window_seconds=0)  # fmt: skip
    plain_settings = settings_for(database_url=f"sqlite:///{tmp_path / 'plain.db'}",
                                  consistency_window_seconds=0)  # fmt: skip
    with (
        running(hot_settings, trained.token, trained.tracking_uri) as hot,
        running(plain_settings, trained.token, trained.tracking_uri, hot_path=False) as plain,
    ):
        statuses = set()
        for name, content, headers in cases(trained, pricing_key):
            one = hot.http.post("/v1/decisions", content=content, headers=headers)
            two = plain.http.post("/v1/decisions", content=content, headers=headers)
            assert comparable(one) == comparable(two), name
            statuses.add(one.status_code)
        assert statuses >= {200, 400, 401, 403, 404, 422}
        # Well-formed, authorised requests go the hot path (10: the first eleven cases but
        # the three the model refuses, plus "charset" and "lower-case scheme"; the
        # service's own refusals among them); all the others, FastAPI's route.
        assert hot_path_of(hot.app).served == 10
        assert hot_path_of(plain.app) is None
        # Both logged what they answered, and the hot path's answers were timed as the route's.
        metrics = hot.get("/metrics").text
        assert 'route="/v1/decisions",status="200"' in metrics
        assert (
            "retention_decisions_total{action=" in metrics or "retention_decisions_total" in metrics
        )
