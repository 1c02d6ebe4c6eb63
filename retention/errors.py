"""How the command line reports the project's errors: one clear line, non-zero exit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.markup import escape

from engine.errors import RetentionError
from retention.console import err_console

EXIT_USER_ERROR = 2


@contextmanager
def exit_on_error() -> Iterator[None]:
    """Turn a RetentionError into a message on stderr and exit code 2 (no traceback)."""
    try:
        yield
    except RetentionError as exc:
        err_console.print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(EXIT_USER_ERROR) from exc
