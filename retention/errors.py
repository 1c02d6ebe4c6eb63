"""How the command line reports the project's errors: one clear line, non-zero exit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape

from engine.errors import RetentionError

EXIT_USER_ERROR = 2


@contextmanager
def exit_on_error(console: Console) -> Iterator[None]:
    """Turn a RetentionError into a message on stderr and exit code 2 (no traceback)."""
    try:
        yield
    except RetentionError as exc:
        Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(EXIT_USER_ERROR) from exc
