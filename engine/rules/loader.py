"""Load a rule file: bytes → YAML with positions → schema → compiled ``RuleSet``.

``compile_rule_set`` is pure (bytes in); ``load_rule_set`` reads the file first. A rule set
is identified by the sha256 of the exact bytes it was compiled from, so two replicas that
loaded the same file report the same hash, and any edit, even a comment, is a new version.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from engine.errors import ConfigError

from .compiler import compile_document
from .document import RuleSetDocument
from .problems import Problem, RuleSetError
from .ruleset import RuleSet
from .structure import validate
from .yaml_source import load_yaml


def compile_rule_set(data: bytes, file: str = "<rules>") -> RuleSet:
    """Parse, validate and compile a rule file's bytes; ``RuleSetError`` lists every problem."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RuleSetError([Problem(file, 0, 0, f"the file is not UTF-8 text: {error}")]) from None
    raw, source = load_yaml(text, file)
    if not isinstance(raw, dict):
        raise RuleSetError([source.problem((), "a rule file is a mapping (version, name, ...)")])
    document = validate(RuleSetDocument, raw, source)
    return compile_document(document, source, digest)


def read_rule_file(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a rule or case file; ``ConfigError`` when it cannot be read."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a rule file") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read: {error.strerror}") from None


def load_rule_set(path: str | os.PathLike[str]) -> RuleSet:
    """Read and compile the rule file at ``path``."""
    return compile_rule_set(read_rule_file(path), str(path))
