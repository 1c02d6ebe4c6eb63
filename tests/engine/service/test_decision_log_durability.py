"""The decision log is on disk before a decision returns unless told otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from engine.errors import ConfigError
from engine.stores.decision_log import Durability, SqlDecisionLog

SYNCHRONOUS = {"2": "FULL", "1": "NORMAL"}


def _synchronous(log: SqlDecisionLog) -> str:
    with log.engine.connect() as connection:
        return SYNCHRONOUS[str(connection.execute(text("PRAGMA synchronous")).scalar())]


def test_full_is_the_default(tmp_path: Path) -> None:
    log = SqlDecisionLog(f"sqlite:///{tmp_path / 'd.db'}")
    try:
        assert _synchronous(log) == "FULL"
    finally:
        log.close()


def test_normal_only_when_asked(tmp_path: Path) -> None:
    log = SqlDecisionLog(f"sqlite:///{tmp_path / 'd.db'}", durability="commit")
    try:
        assert _synchronous(log) == "NORMAL"
    finally:
        log.close()


def test_anything_else_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="flush or commit"):
        SqlDecisionLog(f"sqlite:///{tmp_path / 'd.db'}", durability="OFF")  # type: ignore[arg-type]


@pytest.mark.integration
@pytest.mark.parametrize(("durability", "expected"), [("flush", "on"), ("commit", "off")])
def test_postgresql_synchronous_commit_follows_the_durability(
    postgres_url: str, durability: Durability, expected: str
) -> None:
    log = SqlDecisionLog(postgres_url, durability=durability)
    try:
        with log.engine.connect() as connection:
            assert connection.execute(text("SHOW synchronous_commit")).scalar() == expected
            # the URL's own options (the fixture's search_path) are kept alongside
            assert connection.execute(text("SHOW search_path")).scalar().startswith("t_")
    finally:
        log.close()
