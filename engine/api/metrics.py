"""Prometheus metrics of one app: latency by route, decisions by action, degradation.

Each app has its own registry (several apps in one test process never clash). Request
latency is measured by a small ASGI middleware around the whole app, labelled by the
route's path template (never by a raw path that could hold an id). Versions and the
reason-code cache are read from the runtime at scrape time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.latency = Histogram(
            "retention_request_seconds", "Request latency by route.",
            ["method", "route", "status"], buckets=BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.decisions = Counter(
            "retention_decisions", "Answers by kind and first action (none: do nothing).",
            ["kind", "action"], registry=self.registry,
        )  # fmt: skip
        self.degraded = Counter(
            "retention_degraded_answers", "Answers given degraded (a store unreachable).",
            ["kind"], registry=self.registry,
        )  # fmt: skip
        self.reused = Counter(
            "retention_consistent_answers", "Answers reused from the consistency window.",
            ["kind"], registry=self.registry,
        )  # fmt: skip

    def answer(self, kind: str, answer: dict[str, Any]) -> None:
        if kind == "decision":
            actions = answer.get("actions") or []
            first = actions[0]["id"] if actions else "none"
        else:
            first = answer.get("verdict", "none")
        self.decisions.labels(kind, first).inc()
        if answer.get("degraded"):
            self.degraded.labels(kind).inc()
        if answer.get("reused"):
            self.reused.labels(kind).inc()


class RuntimeCollector(Collector):
    """Model and rule-set versions, the reason-code cache and the decision log's commits,
    read at scrape time."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        runtime = getattr(self.app.state, "runtime", None)
        if runtime is None:
            return
        info = InfoMetricFamily("retention_live", "The live model and rule set.")
        info.add_metric(
            [],
            {
                "model_version": runtime.models.version,
                "rule_set": runtime.rules.current.hash[:12],
                "rule_set_name": runtime.rules.current.name,
            },
        )
        yield info
        cache = CounterMetricFamily(
            "retention_reason_cache", "Reason-code cache lookups.", labels=["result"]
        )
        cache.add_metric(["hit"], runtime.service.scorer.hits)
        cache.add_metric(["miss"], runtime.service.scorer.misses)
        yield cache
        yield CounterMetricFamily(
            "retention_decision_log_commits",
            "Group-commit transactions of the decision log (decisions per commit: "
            "retention_decisions_total / this).",
            value=runtime.stores.decisions.batches,
        )


class LatencyMiddleware:
    """Observe each HTTP request's duration under its route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            self.metrics.latency.labels(scope["method"], path, str(status)).observe(
                time.perf_counter() - started
            )
