"""The real app with Redis features, counters and answers: degradation, budgets, consistency.

Each test starts its own ``redis-server`` on a free loopback port (the shared server is
never stopped), pushes the book into it, and stops or restarts it as the test needs.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import redis

from engine.stores.features import read_book
from engine.stores.features_redis import RedisFeatureStore
from retention.commands.quickstart import Prepared

from .conftest import Service, free_port

pytestmark = pytest.mark.integration


class OwnRedis:
    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = OwnRedis(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def push(url: str, path: Path) -> None:
    store = RedisFeatureStore(url, prefix="retention")
    try:
        store.push_frame(read_book(path))
    finally:
        store.close()


@pytest.fixture
def with_redis(serve: Any, trained: Prepared, own_redis: OwnRedis) -> Iterator[Service]:
    push(own_redis.url, trained.book)
    with serve(redis_url=own_redis.url, features_file=None) as service:
        yield service


def ids(trained: Prepared) -> list[str]:
    return (
        pd.read_parquet(trained.book, columns=["customer_id"])["customer_id"].astype(str).tolist()
    )


def decide(service: Service, customer: str, channel: str = "call_center", **extra: Any) -> Any:
    body = {"customer_id": customer, "channel": channel,
            "context": {"intent": "cancel_request", "event": "renewal_due"}, **extra}  # fmt: skip
    response = service.post("/v1/decisions", body)
    assert response.status_code == 200, response.text
    return response.json()


def test_decisions_read_features_from_redis_and_are_consistent_across_channels(
    with_redis: Service, trained: Prepared
) -> None:
    customer = ids(trained)[11]
    first = decide(with_redis, customer, "call_center")
    assert first["degraded"] is False
    assert decide(with_redis, customer, "branch")["decision_id"] == first["decision_id"]
    assert decide(with_redis, customer, "agent")["decision_id"] == first["decision_id"]
    assert with_redis.get("/readyz").json()["status"] == "ok"


def test_redis_down_degrades_without_5xx_and_recovers_by_itself(
    with_redis: Service, trained: Prepared, own_redis: OwnRedis
) -> None:
    customers = ids(trained)
    own_redis.stop()
    inline = {"tenure_years": 4, "margin": 350.0, "annual_premium": 900.0,
              "proposed_premium": 950.0, "segment": "mass", "complaints_12m": 1}  # fmt: skip
    on_inline = decide(with_redis, customers[12], features=inline)
    assert on_inline["degraded"] is True
    assert on_inline["scores"]["churn_probability"] is not None
    assert all(a["id"] != "loyalty_discount_10" for a in on_inline["actions"])  # budgeted
    fallback = decide(with_redis, customers[13])
    assert fallback["degraded"] is True
    assert [a["id"] for a in fallback["actions"]] == ["thank_you_note"]
    assert fallback["degraded_reasons"]
    renewal = with_redis.post(
        "/v1/renewals/check",
        {"customer_id": customers[13], "current_premium": 900.0, "proposed_premium": 990.0},
    )
    assert renewal.status_code == 200
    assert renewal.json()["verdict"] == "review"
    ready = with_redis.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["components"]["features"]["status"] == "unavailable"
    own_redis.start()
    push(own_redis.url, trained.book)
    recovered = decide(with_redis, customers[14])
    assert recovered["degraded"] is False
    assert with_redis.get("/readyz").json()["status"] == "ok"


def test_budgets_are_never_overspent_under_concurrent_requests(
    serve: Any, trained: Prepared, own_redis: OwnRedis, tmp_path: Path
) -> None:
    from tests.engine.api.conftest import RULES

    # The fallback (offered to nearly everyone) draws 0.50 from a budget of 2.00.
    rules = (
        RULES.read_text()
        .replace(
            "{name: service_callbacks, amount: 40000, period: month}",
            "{name: service_callbacks, amount: 2, period: month}",
        )
        .replace(
            "    eligibility: coalesce(uplift, 0) >= 0\n",
            "    eligibility: coalesce(uplift, 0) >= 0\n    budget: service_callbacks\n",
        )
    )
    assert "budget: service_callbacks\n    script: Thank" in rules
    path = tmp_path / "rules.yaml"
    path.write_text(rules)
    push(own_redis.url, trained.book)
    budgeted = {"senior_agent_callback", "payment_plan", "thank_you_note"}
    with serve(redis_url=own_redis.url, features_file=None, rules_path=path) as service:
        customers = ids(trained)[1000:1100]
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(lambda c: decide(service, c, "web"), customers))
        reserved = [
            a["actions"][0] for a in answers if a["actions"] and a["actions"][0]["reserved"]
        ]
        spent = sum(a["cost"] for a in reserved if a["id"] in budgeted)
        month = time.strftime("%Y-%m", time.gmtime())
        stored = float(service.runtime.stores.counters.budget_spent(f"service_callbacks:{month}"))
        assert stored <= 2.0
        assert abs(stored - spent) < 0.01
        assert stored > 1.0
        refused = [r for a in answers for r in a["reasons"] if r["code"] == "budget_exhausted"]
        assert refused
