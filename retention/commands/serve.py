"""`retention serve`: run the decision service (configuration from RETENTION_* variables)."""

from __future__ import annotations

from typing import Annotated

import typer

from retention.errors import exit_on_error

APP = "engine.api.app:create_app"


def run_server(host: str, port: int, workers: int, log_level: str | None = None) -> None:
    """Serve ``create_app`` with uvicorn (uvloop and httptools when installed)."""
    import uvicorn

    from engine.core.config import get_settings

    settings = get_settings()  # fail here, with one clear line, on bad settings
    uvicorn.run(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=(log_level or settings.log_level).lower(),
        access_log=False,  # request lines would carry ids; metrics cover traffic
        proxy_headers=False,
    )


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (embedded stores: use 1).")
    ] = 1,
) -> None:
    """Run the decision service until stopped (SIGINT/SIGTERM shut it down cleanly)."""
    with exit_on_error():
        run_server(host, port, workers)
