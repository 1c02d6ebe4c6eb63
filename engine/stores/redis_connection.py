"""How the stores connect to Redis: short timeouts, one quick retry, our errors only.

The request path must fail fast when Redis is gone (the service answers degraded rather
than hanging), so connect and read timeouts are short and there is one immediate retry,
no backoff: enough to replace a pooled socket that died when Redis restarted, not enough
to stall a request. Every redis-py exception is turned into the caller's
``RetentionError`` subclass; nothing outside ``engine.stores`` sees a redis exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from engine.errors import RetentionError


def connect_redis(url: str, *, timeout: float) -> redis.Redis:
    """A client (with its own pool) for ``url``; connects lazily on the first command."""
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 1),
        retry_on_timeout=False,
        health_check_interval=0,
    )


@contextmanager
def redis_errors(error: type[RetentionError], what: str) -> Iterator[None]:
    """Re-raise any redis-py error as ``error`` naming ``what`` failed (no URL: it may hold a
    password)."""
    try:
        yield
    except redis.exceptions.RedisError as exc:
        raise error(f"{what}: {redis_error_text(exc)}") from exc


def redis_error_text(exc: Exception) -> str:
    """The error's class and first line: never the URL (it may hold a password)."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else 'no detail'}"
