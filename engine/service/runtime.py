"""Everything the service builds once at startup, and the poller that hot-reloads it.

``Runtime.build(settings)`` loads the rule set and the model bundle (failing loudly: a
service must not start without them), builds the stores, the consistency store and the
key store, and wires the ``DecisionService``. ``start_polling`` runs one daemon thread that
every ``RELOAD_POLL_SECONDS`` reloads the rule file (when its bytes changed) and the model
(when its alias points at another version); ``close`` stops it and closes the stores.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from engine.auth.keys import KeyStore
from engine.core.config import Settings
from engine.errors import RetentionError
from engine.rules import RuleSetHolder
from engine.service.consistency import AnswerCache, LocalAnswers, RedisAnswers
from engine.service.models import ModelHolder
from engine.service.pipeline import DecisionService
from engine.service.scoring import Scorer
from engine.stores.factory import Stores, build_stores

logger = logging.getLogger(__name__)


def settle_heap() -> None:
    """Move the long-lived objects (models, rules, libraries) out of the collector's sight.

    A service process holds millions of objects from its libraries and models; every full
    collection walks all of them, and one landing inside a request was the largest part of
    the in-process p99 (0.8 ms vs 0.5 ms with a frozen heap, bench/results/service.md).
    Called after startup and after a model swap: unfreeze first so a replaced bundle can
    still be collected. A decision allocates a few thousand short-lived objects; with the
    default young-generation threshold (700) several collections land inside each one, with
    10,000 fewer do (in-process p99.9 1.2 → 0.7 ms).
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


@dataclass
class Runtime:
    settings: Settings
    rules: RuleSetHolder
    models: ModelHolder
    stores: Stores
    answers: AnswerCache
    keys: KeyStore
    service: DecisionService
    started_at: float = field(default_factory=time.time)
    _stop: threading.Event = field(default_factory=threading.Event)
    _poller: threading.Thread | None = None

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        if settings.mlflow_tracking_uri and not os.environ.get("MLFLOW_TRACKING_URI"):
            os.environ["MLFLOW_TRACKING_URI"] = settings.mlflow_tracking_uri
        keys = KeyStore(settings.keys_file, poll_s=settings.reload_poll_seconds)
        rules = RuleSetHolder(settings.rules_path)
        models = ModelHolder(settings.model_uri, required=False)
        stores = build_stores(settings)
        answers: AnswerCache = (
            RedisAnswers(
                settings.redis_url,
                prefix=settings.redis_prefix,
                timeout=settings.redis_timeout_seconds,
            )
            if settings.redis_url
            else LocalAnswers()
        )
        service = DecisionService(
            rules,
            models,
            stores,
            answers,
            consistency_window_s=settings.consistency_window_seconds,
            scorer=Scorer(method=settings.reason_method),
        )
        if models.loaded is not None:
            service.scorer.predictors(models.loaded.bundle)  # built now, not on a request
        settle_heap()
        logger.info(
            "service ready: model %s, rules %s, %s stores",
            models.version,
            rules.current.short_hash,
            "redis" if settings.redis_url else "embedded",
        )
        return cls(settings, rules, models, stores, answers, keys, service)

    def reload_rules(self) -> dict[str, Any]:
        result = self.rules.reload()
        if result.changed:
            logger.info("rule set %s is live", result.rule_set_hash[:12])
        elif not result.ok:
            live = result.rule_set_hash[:12]
            logger.error("rule file rejected, keeping %s: %s", live, result.error)
        return {
            "ok": result.ok,
            "changed": result.changed,
            "rule_set": result.rule_set_hash,
            "error": result.error,
        }

    def reload_model(self, *, force: bool = False) -> dict[str, Any]:
        result = self.models.reload(force=force)
        if result.changed and self.models.loaded is not None:
            self.service.scorer.predictors(self.models.loaded.bundle)
            settle_heap()
        return {
            "ok": result.ok,
            "changed": result.changed,
            "model": result.version,
            "error": result.error,
        }

    def poll_once(self) -> None:
        self.reload_rules()
        self.reload_model()

    def start_polling(self) -> None:
        if self._poller is not None:
            return

        def run() -> None:
            while not self._stop.wait(self.settings.reload_poll_seconds):
                try:
                    self.poll_once()
                except Exception:  # the poller must outlive any one failure
                    logger.exception("reload poll failed")

        self._poller = threading.Thread(target=run, name="retention-reload", daemon=True)
        self._poller.start()

    def readiness(self) -> dict[str, Any]:
        """Each component with its status; ``ready`` is False only if nothing can answer."""
        components: dict[str, dict[str, Any]] = {
            "model": {
                "status": "unavailable"
                if self.models.loaded is None
                else "stale"
                if self.models.last_error
                else "ok",
                "version": self.models.version,
                "error": self.models.last_error,
            },
            "rules": {
                "status": "stale" if self.rules.last_error else "ok",
                "rule_set": self.rules.current.hash,
                "error": self.rules.last_error,
            },
        }
        for name, store in (
            ("features", self.stores.features),
            ("counters", self.stores.counters),
            ("decision_log", self.stores.decisions),
        ):
            try:
                store.ping()
                components[name] = {"status": "ok", "error": None}
            except RetentionError as error:
                components[name] = {"status": "unavailable", "error": error.message}
        components["decision_log"]["durability"] = self.stores.decisions.durability
        components["decision_log"]["writer"] = self.stores.decisions.writer
        log_ok = components["decision_log"]["status"] == "ok"
        degraded = any(c["status"] != "ok" for c in components.values())
        return {
            "ready": log_ok,
            "status": "degraded" if degraded else "ok",
            "components": components,
        }

    def close(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=5)
            self._poller = None
        self.answers.close()
        self.stores.close()
        self.models.close()
