"""Consistent answers: the same customer, channel group and context get the same answer.

An answer is kept for the consistency window under a key made of the request's context
(kind, channel group, intent, event, prices, limit, inline features) *and* the live rule-set
hash and model version, so a new rule set or model is a new key: it intervenes at once.
An outcome reported for the customer forgets all their answers.

``RedisAnswers`` keeps them in one hash per customer, ``{prefix}:answer:{customer}``, shared
by every replica (the answer stored first wins, with ``HSETNX``, so two replicas racing on
the same customer still agree); ``LocalAnswers`` in this process (embedded mode). A failing
Redis makes a miss, never an error: the caller decides afresh and says it is degraded.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from typing import Any, Protocol

from engine.stores.errors import CounterStoreUnavailable
from engine.stores.redis_connection import connect_redis, redis_errors

Answer = dict[str, Any]


class AnswerCache(Protocol):
    def get(self, customer_id: str, key: str) -> Answer | None: ...

    def put(self, customer_id: str, key: str, answer: Answer, ttl_s: float) -> Answer:
        """Store ``answer`` unless one is there already; return the one that is kept."""
        ...

    def forget(self, customer_id: str) -> None: ...

    def close(self) -> None: ...


class LocalAnswers:
    """Answers of this process, at most ``max_customers`` (least recently used go first)."""

    def __init__(self, max_customers: int = 200_000) -> None:
        self._max = max_customers
        self._lock = threading.Lock()
        self._data: OrderedDict[str, dict[str, tuple[float, Answer]]] = OrderedDict()

    def get(self, customer_id: str, key: str) -> Answer | None:
        with self._lock:
            found = self._data.get(customer_id, {}).get(key)
            if found is None or found[0] < time.monotonic():
                return None
            return found[1]

    def put(self, customer_id: str, key: str, answer: Answer, ttl_s: float) -> Answer:
        now = time.monotonic()
        with self._lock:
            answers = self._data.setdefault(customer_id, {})
            self._data.move_to_end(customer_id)
            found = answers.get(key)
            if found is not None and found[0] >= now:
                return found[1]
            answers[key] = (now + ttl_s, answer)
            while len(self._data) > self._max:
                self._data.popitem(last=False)
            return answer

    def forget(self, customer_id: str) -> None:
        with self._lock:
            self._data.pop(customer_id, None)

    def close(self) -> None:
        return None


class RedisAnswers:
    """Answers in Redis, shared by every replica."""

    def __init__(self, url: str, *, prefix: str, timeout: float) -> None:
        self.prefix = prefix
        self._client = connect_redis(url, timeout=timeout)

    def _key(self, customer_id: str) -> str:
        return f"{self.prefix}:answer:{customer_id}"

    def get(self, customer_id: str, key: str) -> Answer | None:
        with redis_errors(CounterStoreUnavailable, "answer cache"):
            raw = self._client.hget(self._key(customer_id), key)
        if raw is None:
            return None
        stored: dict[str, Any] = json.loads(raw)
        if stored["expires"] < time.time():
            return None
        answer: Answer = stored["answer"]
        return answer

    def put(self, customer_id: str, key: str, answer: Answer, ttl_s: float) -> Answer:
        text = json.dumps({"expires": time.time() + ttl_s, "answer": answer})
        name = self._key(customer_id)
        with redis_errors(CounterStoreUnavailable, "answer cache"):
            pipe = self._client.pipeline(transaction=True)
            pipe.hsetnx(name, key, text)
            pipe.expire(name, max(1, int(ttl_s) + 1))
            created, _ = pipe.execute()
        if created:
            return answer
        kept = self.get(customer_id, key)
        if kept is not None:
            return kept
        with redis_errors(CounterStoreUnavailable, "answer cache"):  # the old one expired
            self._client.hset(name, key, text)
        return answer

    def forget(self, customer_id: str) -> None:
        with redis_errors(CounterStoreUnavailable, "answer cache"):
            self._client.delete(self._key(customer_id))

    def close(self) -> None:
        self._client.close()
