"""API keys: stored as hashes only, file 0600 and atomic, reloaded by a running KeyStore."""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path

import pytest

from engine.auth.errors import KeyFileError, UnknownKey, UnknownScope
from engine.auth.keys import KeyFile, KeyStore, parse_scopes


def test_key_is_random_and_stored_only_as_hash(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    token = KeyFile(path).create("call-center", ["decide", "outcomes"])
    assert token.startswith("rk_")
    assert len(token) == 46
    assert "call-center" not in token
    text = path.read_text()
    assert token not in text
    assert token[3:] not in text
    stored = json.loads(text)["keys"][0]
    assert set(stored) == {"name", "scopes", "created_at", "sha256"}
    assert stored["scopes"] == ["decide", "outcomes"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert token not in repr(KeyFile(path).list())


def test_authenticate_checks_the_key_and_scopes(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    token = KeyFile(path).create("pricing-system", ["pricing"])
    record = KeyStore(path).authenticate(token)
    assert record is not None
    assert record.name == "pricing-system"
    assert record.allows("pricing")
    assert not record.allows("admin")
    assert KeyStore(path).authenticate(token + "x") is None
    assert KeyStore(path).authenticate("") is None


def test_running_store_sees_created_and_revoked_keys(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    keys = KeyFile(path)
    store = KeyStore(path, poll_s=0)
    assert store.records() == ()
    token = keys.create("ops", ["admin"])
    assert store.authenticate(token) is not None
    keys.revoke("ops")
    assert store.authenticate(token) is None


def test_broken_file_keeps_the_last_good_keys(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    token = KeyFile(path).create("ops", ["admin"])
    store = KeyStore(path, poll_s=0)
    path.write_text("{ not json")
    assert store.authenticate(token) is not None
    with pytest.raises(KeyFileError, match="not a valid keys file"):
        KeyStore(path)


def test_refusals_are_clear(tmp_path: Path) -> None:
    keys = KeyFile(tmp_path / "keys.json")
    with pytest.raises(UnknownScope, match="unknown scope 'root'; known scopes: decide, pricing"):
        keys.create("a", ["decide", "root"])
    with pytest.raises(UnknownScope, match="no scope"):
        parse_scopes([" ", ""])
    with pytest.raises(KeyFileError, match="invalid key name"):
        keys.create("has space", ["decide"])
    keys.create("a", ["decide"])
    with pytest.raises(KeyFileError, match="exists"):
        keys.create("a", ["admin"])
    with pytest.raises(UnknownKey, match="no key named 'b'"):
        keys.revoke("b")
    with pytest.raises(KeyFileError, match="does not exist"):
        KeyFile(tmp_path / "no" / "keys.json").create("a", ["decide"])


def test_concurrent_creates_lose_nothing(tmp_path: Path) -> None:
    keys = KeyFile(tmp_path / "keys.json")
    threads = [threading.Thread(target=keys.create, args=(f"k{i}", ["decide"])) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.name for r in keys.list()) == sorted(f"k{i}" for i in range(20))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
