"""API keys: a JSON file of names, scopes and key hashes; never the keys themselves.

A key is ``rk_`` + 43 characters of ``secrets.token_urlsafe(32)``: 256 random bits, with
nothing derived from its name. The file keeps only SHA-256 of each key. A slow password
hash (bcrypt, scrypt) exists to make guessing *low-entropy* secrets expensive; guessing a
256-bit random token is hopeless at any speed, so a fast hash loses nothing and keeps
every request cheap. Hashes are compared with ``hmac.compare_digest`` against every
record, so timing does not tell which prefix matched.

Writes go to a temporary file (mode 0600) that is fsynced and renamed over the old one,
under an exclusive lock, so concurrent ``retention keys`` commands do not lose each
other's changes and the service never reads half a file. ``KeyStore`` re-reads the file
when it changes, so a key created or revoked on the command line takes effect in a running
service within ``poll_s``. Keys are never logged; ``KeyRecord`` holds no secret.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.auth.errors import KeyFileError, UnknownKey, UnknownScope

logger = logging.getLogger(__name__)

SCOPES = ("decide", "pricing", "outcomes", "admin")
KEY_PREFIX = "rk_"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
FILE_VERSION = 1


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A key as stored: who it is for, what it may do, its hash."""

    name: str
    scopes: frozenset[str]
    created_at: datetime
    key_hash: str = field(repr=False)

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


def parse_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """Validate scope names (``UnknownScope`` names the first bad one)."""
    chosen = frozenset(s.strip() for s in scopes if s.strip())
    for scope in sorted(chosen):
        if scope not in SCOPES:
            raise UnknownScope(f"unknown scope {scope!r}; known scopes: {', '.join(SCOPES)}")
    if not chosen:
        raise UnknownScope(f"no scope given; known scopes: {', '.join(SCOPES)}")
    return chosen


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def read_keys(path: Path) -> list[KeyRecord]:
    """The records of a keys file; a missing file has none."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    try:
        document = json.loads(text)
        return [
            KeyRecord(
                name=k["name"],
                scopes=frozenset(k["scopes"]),
                created_at=datetime.fromisoformat(k["created_at"]),
                key_hash=k["sha256"],
            )
            for k in document["keys"]
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyFileError(f"keys file {path} is not a valid keys file ({exc})") from exc


def _document(records: Iterable[KeyRecord]) -> dict[str, Any]:
    return {
        "version": FILE_VERSION,
        "keys": [
            {
                "name": r.name,
                "scopes": sorted(r.scopes),
                "created_at": r.created_at.isoformat(),
                "sha256": r.key_hash,
            }
            for r in records
        ],
    }


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    lock_path = path.with_name(path.name + ".lock")
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _write_atomically(path: Path, records: Iterable[KeyRecord]) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w") as handle:  # mkstemp creates it 0600
            json.dump(_document(records), handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        Path(temporary).chmod(0o600)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # make the rename itself durable
    finally:
        os.close(directory)


class KeyFile:
    """Changes to a keys file: create, list, revoke."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _check_directory(self) -> None:
        if not self.path.parent.is_dir():
            raise KeyFileError(f"directory {self.path.parent} of keys file does not exist")

    def create(self, name: str, scopes: Iterable[str]) -> str:
        """Add a key and return it in plain text: the only time it is ever shown."""
        if not NAME.match(name):
            raise KeyFileError(
                f"invalid key name {name!r}: 1-64 letters, digits, '_', '.', '-', "
                "starting with a letter or digit"
            )
        chosen = parse_scopes(scopes)
        self._check_directory()
        token = KEY_PREFIX + secrets.token_urlsafe(32)
        with _locked(self.path):
            records = read_keys(self.path)
            if any(r.name == name for r in records):
                raise KeyFileError(f"a key named {name!r} exists; revoke it first")
            record = KeyRecord(
                name, chosen, datetime.now(UTC).replace(microsecond=0), hash_key(token)
            )
            _write_atomically(self.path, [*records, record])
        return token

    def list(self) -> list[KeyRecord]:
        return read_keys(self.path)

    def revoke(self, name: str) -> None:
        self._check_directory()
        with _locked(self.path):
            records = read_keys(self.path)
            kept = [r for r in records if r.name != name]
            if len(kept) == len(records):
                raise UnknownKey(f"no key named {name!r} in {self.path}")
            _write_atomically(self.path, kept)


class KeyStore:
    """The service's view of the keys file, re-read when the file changes."""

    def __init__(self, path: Path, *, poll_s: float = 1.0) -> None:
        self.path = path
        self._poll_s = poll_s
        self._lock = threading.Lock()
        self._records: tuple[KeyRecord, ...] = ()
        self._signature: tuple[int, int, int] | None = None
        self._checked_at = float("-inf")
        self.refresh()

    def refresh(self) -> None:
        """Re-read the file if it changed (inode, size or mtime: a rename changes the inode)."""
        try:
            stat = self.path.stat()
            signature: tuple[int, int, int] | None = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        except FileNotFoundError:
            signature = None
        with self._lock:
            first = self._checked_at == float("-inf")
            self._checked_at = time.monotonic()
            if signature == self._signature and not first:
                return
            try:
                self._records = tuple(read_keys(self.path)) if signature is not None else ()
            except KeyFileError:
                if first:
                    raise  # at startup a broken file is an error to fix, not to serve with
                # Later, keep the last good keys instead of locking every caller out;
                # the signature is not updated, so the next poll tries again.
                logger.warning("keys file %s is unreadable; keeping the previous keys", self.path)
                return
            self._signature = signature

    def records(self) -> tuple[KeyRecord, ...]:
        if time.monotonic() - self._checked_at >= self._poll_s:
            self.refresh()
        return self._records

    def authenticate(self, token: str) -> KeyRecord | None:
        """The record of a valid key, else None (constant time over the records)."""
        digest = hash_key(token)
        found = None
        for record in self.records():
            if hmac.compare_digest(record.key_hash, digest):
                found = record
        return found
