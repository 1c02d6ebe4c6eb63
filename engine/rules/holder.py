"""Hot reload: the service keeps one ``RuleSetHolder`` and asks it to reload when told to.

A reload reads the file, and only if its bytes changed parses, validates and compiles them,
then swaps the current rule set in one assignment. Readers never see a half-built rule set:
they read ``holder.current`` once per decision and keep that object for the whole decision.
An invalid file never replaces the running set: the last good one stays, and the error is
kept in ``last_error`` for ``/v1/admin`` and logs.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from engine.errors import RetentionError

from .loader import compile_rule_set, load_rule_set, read_rule_file
from .ruleset import RuleSet


@dataclass(frozen=True, slots=True)
class ReloadResult:
    ok: bool
    """False when the file could not be read or compiled; the previous set stays live."""
    changed: bool
    """True when a new rule set is now live."""
    rule_set_hash: str
    """The hash of the rule set live after the reload."""
    error: str | None = None


class RuleSetHolder:
    """The live rule set of a process and how to replace it safely."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Load ``path``; raise (``RuleError``/``ConfigError``) if it is invalid: a service
        must not start without rules."""
        self.path = Path(path)
        self._lock = threading.Lock()
        self._current = load_rule_set(self.path)
        self.last_error: str | None = None

    @property
    def current(self) -> RuleSet:
        return self._current

    def reload(self) -> ReloadResult:
        with self._lock:  # one reload at a time; readers are never blocked
            live = self._current
            try:
                data = read_rule_file(self.path)
                if _digest_matches(data, live.hash):
                    self.last_error = None
                    return ReloadResult(ok=True, changed=False, rule_set_hash=live.hash)
                candidate = compile_rule_set(data, str(self.path))
            except RetentionError as error:
                self.last_error = error.message
                return ReloadResult(
                    ok=False, changed=False, rule_set_hash=live.hash, error=error.message
                )
            self._current = candidate
            self.last_error = None
            return ReloadResult(ok=True, changed=True, rule_set_hash=candidate.hash)


def _digest_matches(data: bytes, digest: str) -> bool:
    return hashlib.sha256(data).hexdigest() == digest
