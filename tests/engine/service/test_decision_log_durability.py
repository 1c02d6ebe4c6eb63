"""The SQLite decision log is durable against power loss unless told otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from engine.errors import ConfigError
from engine.stores.decision_log import SqlDecisionLog

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
    log = SqlDecisionLog(f"sqlite:///{tmp_path / 'd.db'}", sqlite_synchronous="NORMAL")
    try:
        assert _synchronous(log) == "NORMAL"
    finally:
        log.close()


def test_anything_else_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="FULL or NORMAL"):
        SqlDecisionLog(f"sqlite:///{tmp_path / 'd.db'}", sqlite_synchronous="OFF")  # type: ignore[arg-type]
