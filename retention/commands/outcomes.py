"""`retention outcomes export`: decisions joined to their outcomes, as training data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from retention.console import console
from retention.errors import exit_on_error

outcomes_app = typer.Typer(
    name="outcomes", help="Decisions and their outcomes.", no_args_is_help=True
)


@outcomes_app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file (.parquet or .csv).")],
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Decision log (default: RETENTION_DATABASE_URL)."),
    ] = None,
) -> None:
    """Write every decision left-joined to its outcomes (one row per outcome)."""
    with exit_on_error():
        from engine.core.config import get_settings
        from engine.stores.decision_log import SqlDecisionLog

        log = SqlDecisionLog(database_url or get_settings().database_url)
        try:
            rows = log.export_joined(out)
        finally:
            log.close()
        console.print(f"[green]wrote[/green] {rows:,} rows to {out}")
