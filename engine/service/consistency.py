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

import threading
import time
from collections import OrderedDict
from typing import Any, Protocol

import orjson

from engine.core.json_codec import dumps
from engine.stores.errors import CounterStoreUnavailable
from engine.stores.redis_async import AsyncRedis
from engine.stores.redis_connection import connect_redis, redis_errors

Answer = dict[str, Any]


class AnswerCache(Protocol):
    """Read and written on every decision, so both are coroutines: Redis's round trips do
    not hold the event loop (``engine.stores.redis_async``)."""

    async def get(self, customer_id: str, key: str) -> Answer | None: ...

    async def put(self, customer_id: str, key: str, answer: Answer, ttl_s: float) -> Answer:
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

    async def get(self, customer_id: str, key: str) -> Answer | None:
        with self._lock:
            found = self._data.get(customer_id, {}).get(key)
            if found is None or found[0] < time.monotonic():
                return None
            return found[1]

    async def put(self, customer_id: str, key: str, answer: Answer, ttl_s: float) -> Answer:
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
        self._link = AsyncRedis(url, timeout=timeout)

    def _key(self, customer_id: str) -> str:
        return f"{self.prefix}:answer:{customer_id}"

    async def get(self, customer_id: str, key: str) -> Answer | None:
        with redis_errors(CounterStoreUnavailable, "answer cache"):
            (raw,) = await self._link.execute(("HGET", self._key(customer_id), key))
        return _unexpired(raw)

    async def put(self, customer_id: str, key: str, answer: Answer, ttl_s: float) -> Answer:
        text = dumps({"expires": time.time() + ttl_s, "answer": answer})
        name = self._key(customer_id)
        with redis_errors(CounterStoreUnavailable, "answer cache"):
            # One connection, one write: no other command can fall inside MULTI ... EXEC.
            *_, done = await self._link.execute(
                ("MULTI",),
                ("HSETNX", name, key, text),
                ("EXPIRE", name, max(1, int(ttl_s) + 1)),
                ("EXEC",),
            )
            if isinstance(done, Exception):
                raise done
            if done[0]:
                return answer
            (raw,) = await self._link.execute(("HGET", name, key))
            kept = _unexpired(raw)
            if kept is not None:
                return kept
            await self._link.execute(("HSET", name, key, text))  # the old one had expired
        return answer

    def forget(self, customer_id: str) -> None:
        with redis_errors(CounterStoreUnavailable, "answer cache"):
            self._client.delete(self._key(customer_id))

    def close(self) -> None:
        self._link.close()
        self._client.close()


def _unexpired(raw: bytes | None) -> Answer | None:
    if raw is None:
        return None
    try:
        stored: dict[str, Any] = orjson.loads(raw)
    except orjson.JSONDecodeError:  # not ours to read (an older release's NaN): decide afresh
        return None
    if stored["expires"] < time.time():
        return None
    answer: Answer = stored["answer"]
    return answer
