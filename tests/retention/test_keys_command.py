"""`retention keys`: create prints the key once, list shows no secrets, errors are one line."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from engine.auth.keys import KeyStore
from retention.commands.keys import keys_app

runner = CliRunner()
# Wired as in retention/cli.py: app.add_typer(keys_app, name="keys").
app = typer.Typer()
app.add_typer(keys_app, name="keys")


def test_create_list_revoke(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    created = runner.invoke(
        app,
        ["keys", "create", "call-center", "--scopes", "decide,outcomes", "--keys-file", str(path)],
    )
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    assert token.startswith("rk_")
    assert KeyStore(path).authenticate(token) is not None

    listed = runner.invoke(app, ["keys", "list", "--keys-file", str(path)])
    assert listed.exit_code == 0
    assert "call-center" in listed.output
    assert "decide,outcomes" in listed.output
    assert token not in listed.output

    revoked = runner.invoke(app, ["keys", "revoke", "call-center", "--keys-file", str(path)])
    assert revoked.exit_code == 0
    assert KeyStore(path).authenticate(token) is None


def test_unknown_scope_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    result = runner.invoke(
        app, ["keys", "create", "x", "--scopes", "decide,root", "--keys-file", str(path)]
    )
    assert result.exit_code == 2
    assert "unknown scope 'root'; known scopes: decide, pricing, outcomes, admin" in result.output
    assert result.output.strip().count("\n") == 0
    assert not path.exists()


def test_keys_file_defaults_to_the_setting(tmp_path: Path, monkeypatch: object) -> None:
    import pytest

    from engine.core.config import get_settings

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("RETENTION_KEYS_FILE", str(tmp_path / "k.json"))
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["keys", "create", "a", "--scopes", "admin"])
        assert result.exit_code == 0, result.output
        assert (tmp_path / "k.json").exists()
    finally:
        get_settings.cache_clear()


def test_revoke_unknown_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["keys", "revoke", "ghost", "--keys-file", str(tmp_path / "k.json")]
    )
    assert result.exit_code == 2
    assert "no key named 'ghost'" in result.output
