"""Fixtures for tests that talk to the real Redis and PostgreSQL of the machine.

Each server is checked when a test asks for it: unreachable, the test is skipped on a
developer's machine but FAILS under ``CI=true`` (CI must never go green by skipping).
Every test gets its own namespace and it is cleaned up afterwards, even when a test
stopped or restarted the server meanwhile:

* ``redis_url`` + ``redis_prefix``: a random key prefix; its keys are deleted afterwards.
* ``postgres_url``: a fresh schema (via ``search_path``) inside a database created for the
  test session and dropped at its end.

Override the servers with ``TEST_REDIS_URL`` and ``TEST_POSTGRES_ADMIN_URL`` (not
``RETENTION_*``: those are the service's settings, and unknown ones are refused).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def unreachable(what: str, reason: object) -> None:
    """Skip locally; fail under CI=true."""
    message = f"{what} is unreachable: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: integration tests must run, not skip)")
    pytest.skip(message)


@pytest.fixture
def redis_url() -> str:
    """The test Redis's URL, after checking it answers now (a previous test may have
    stopped it)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        unreachable(f"Redis at {REDIS_URL}", exc)
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards (best effort)."""
    import redis

    prefix = f"test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=2)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=10_000))
        for start in range(0, len(keys), 10_000):
            client.unlink(*keys[start : start + 10_000])
    except redis.exceptions.RedisError:
        pass  # the server is down (a degradation test): nothing of ours survived anyway
    finally:
        client.close()


def _admin_connection() -> object:
    try:
        import psycopg
    except ImportError as exc:
        unreachable("PostgreSQL (psycopg is not installed)", exc)
    dsn = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        unreachable(f"PostgreSQL at {POSTGRES_ADMIN_URL}", exc)
        raise  # pragma: no cover - unreachable() raised


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database created for this test session (dropped at its end); its URL."""
    admin = _admin_connection()
    name = f"retention_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[attr-defined]
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        try:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[attr-defined]
        finally:
            admin.close()  # type: ignore[attr-defined]


@pytest.fixture
def postgres_url(postgres_database: str) -> Iterator[str]:
    """A SQLAlchemy URL whose connections use a fresh schema of this test only."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    dsn = postgres_database.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.Error as exc:
        unreachable("PostgreSQL", exc)
    yield f"{postgres_database}?options={quote(f'-csearch_path={schema}')}"
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    except psycopg.Error:
        pass  # the server is down: the session's database is dropped at the end
