"""`retention features push`: load a customer book into the Redis feature store."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from retention.console import console
from retention.errors import exit_on_error

features_app = typer.Typer(
    name="features", help="Manage the online feature store.", no_args_is_help=True
)


@features_app.command("push")
def push(
    data: Annotated[Path, typer.Option("--data", help="Book to load (.parquet or .csv).")],
    redis_url: Annotated[
        str | None,
        typer.Option("--redis-url", help="Redis URL (default: RETENTION_REDIS_URL)."),
    ] = None,
    prefix: Annotated[
        str | None, typer.Option("--prefix", help="Key prefix (default: RETENTION_REDIS_PREFIX).")
    ] = None,
) -> None:
    """Replace each customer's features in Redis with the book's row (truth_* never loaded)."""
    with exit_on_error():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        from engine.core.config import get_settings
        from engine.errors import ConfigError
        from engine.stores.features import read_book
        from engine.stores.features_redis import RedisFeatureStore

        settings = get_settings()
        url = redis_url or settings.redis_url
        if not url:
            raise ConfigError("no Redis to push to: pass --redis-url or set RETENTION_REDIS_URL")
        with console.status(f"reading {data}…"):
            book = read_book(data)
        store = RedisFeatureStore(url, prefix=prefix or settings.redis_prefix)
        started = time.perf_counter()
        try:
            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            ) as progress:
                task = progress.add_task("pushing customers", total=len(book))
                pushed = store.push_frame(
                    book, progress=lambda done: progress.update(task, completed=done)
                )
        finally:
            store.close()
        elapsed = time.perf_counter() - started
        console.print(
            f"[green]pushed[/green] {pushed:,} customers to {store.prefix}:cust:* in "
            f"{elapsed:.2f} s ({pushed / max(elapsed, 1e-9):,.0f} customers/s)"
        )
