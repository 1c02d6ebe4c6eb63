"""`retention serve` and `retention outcomes export` fail with one clear line on bad setup."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from engine.core.config import get_settings
from retention.commands.outcomes import outcomes_app
from retention.commands.serve import serve


@pytest.fixture(autouse=True)
def fresh_settings() -> None:
    get_settings.cache_clear()


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(serve)
    app.command("unused")(lambda: None)
    app.add_typer(outcomes_app, name="outcomes")
    return app


def test_serve_refuses_bad_settings_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETENTION_REDIS_ULR", "redis://typo")
    result = CliRunner().invoke(cli(), ["serve", "--port", "1"])
    assert result.exit_code == 2
    assert "RETENTION_REDIS_ULR" in result.output
    assert "Traceback" not in result.output


def test_serve_rejects_zero_workers() -> None:
    result = CliRunner().invoke(cli(), ["serve", "--workers", "0"])
    assert result.exit_code == 2


def test_outcomes_export_writes_the_joined_log(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from engine.stores.decision_log import SqlDecisionLog
    from engine.stores.decision_log_schema import DecisionRecord

    url = f"sqlite:///{tmp_path / 'log.db'}"
    log = SqlDecisionLog(url)
    now = datetime.now(UTC)
    log.log(DecisionRecord("d1", now, "C1", "web", "decision", "x" * 64, {}, {"actions": []},
                           "m", "r", False, False))  # fmt: skip
    log.record_outcome("d1", "thank_you_note", "accepted", now)
    log.close()
    out = tmp_path / "joined.csv"
    result = CliRunner().invoke(
        cli(), ["outcomes", "export", "--out", str(out), "--database-url", url]
    )
    assert result.exit_code == 0, result.output
    assert "1 rows" in result.output
    assert "thank_you_note" in out.read_text()
    bad = CliRunner().invoke(cli(), ["outcomes", "export", "--out", str(tmp_path / "x.txt"),
                                     "--database-url", url])  # fmt: skip
    assert bad.exit_code == 2
    assert "unknown extension" in bad.output
