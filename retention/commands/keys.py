"""`retention keys create | list | revoke`: manage the service's API keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from retention.console import console
from retention.errors import exit_on_error

keys_app = typer.Typer(name="keys", help="Create, list and revoke API keys.", no_args_is_help=True)

KeysFileOption = Annotated[
    Path | None,
    typer.Option(
        "--keys-file", help="Keys file (default: RETENTION_KEYS_FILE or ./retention-keys.json)."
    ),
]


def _keys_file(path: Path | None) -> Path:
    if path is not None:
        return path
    from engine.core.config import get_settings

    return get_settings().keys_file


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Who the key is for, e.g. call-center.")],
    scopes: Annotated[
        str, typer.Option("--scopes", help="Comma-separated: decide, pricing, outcomes, admin.")
    ],
    keys_file: KeysFileOption = None,
) -> None:
    """Create a key and print it once: it is stored only as a hash."""
    with exit_on_error():
        from engine.auth.keys import KeyFile

        path = _keys_file(keys_file)
        token = KeyFile(path).create(name, scopes.split(","))
        console.print(f"created key [bold]{name}[/bold] in {path}; it is shown only this once:")
        console.print(token, markup=False, highlight=False)


@keys_app.command("list")
def list_keys(keys_file: KeysFileOption = None) -> None:
    """List key names, scopes and creation times (never the keys)."""
    with exit_on_error():
        from rich.table import Table

        from engine.auth.keys import KeyFile

        path = _keys_file(keys_file)
        records = KeyFile(path).list()
        if not records:
            console.print(f"no keys in {path}")
            return
        table = Table("name", "scopes", "created (UTC)")
        for record in records:
            table.add_row(
                record.name, ",".join(sorted(record.scopes)), record.created_at.isoformat()
            )
        console.print(table)


@keys_app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(help="Name of the key to revoke.")],
    keys_file: KeysFileOption = None,
) -> None:
    """Revoke a key; a running service stops accepting it within its poll interval."""
    with exit_on_error():
        from engine.auth.keys import KeyFile

        path = _keys_file(keys_file)
        KeyFile(path).revoke(name)
        console.print(f"revoked key [bold]{name}[/bold] in {path}")
