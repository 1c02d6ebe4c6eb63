"""Read a YAML file into plain values while remembering where every key and value starts.

``yaml.safe_load`` forgets positions, so an error found later (an unknown key, a typo in an
expression) could not point back into the file. Here the file is *composed* into YAML nodes
(which carry ``start_mark``), converted to plain dicts, lists and scalars by hand, and each
node is kept under its path (``("actions", 3, "eligibility")``) in a ``SourceMap``.

The conversion also refuses what ``safe_load`` silently accepts: duplicate keys (the last
one would win) and non-text keys. Aliases are expanded, with a node budget so that a
"billion laughs" file cannot exhaust memory.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from engine.rules.expression import SourceLocation

from .problems import Problem, RuleSetError

Path = tuple[str | int, ...]

MAX_NODES = 200_000
"""Most values a rule file may expand to (aliases included)."""


@dataclass(frozen=True, slots=True)
class Segment:
    """One line of a scalar's text as it sits in the file (1-based line and column)."""

    line: int
    column: int
    text: str


@dataclass(slots=True)
class SourceMap:
    """Where each path of a loaded document starts in its file (1-based line and column)."""

    file: str
    text: str
    values: dict[Path, yaml.Node] = field(default_factory=dict)
    keys: dict[Path, yaml.Node] = field(default_factory=dict)

    def problem(self, path: Path, message: str, *, at_key: bool = False) -> Problem:
        """A problem at ``path``, or at its closest parent that exists in the file."""
        node = self._node(path, at_key=at_key)
        if node is None:
            return Problem(self.file, 0, 0, message)
        mark = node.start_mark
        return Problem(self.file, mark.line + 1, mark.column + 1, message)

    def origin(self, path: Path) -> SourceLocation:
        """Where the string at ``path`` starts (inside quotes, on the line after ``|``)."""
        segments = self.segments(path)
        if segments:
            return SourceLocation(self.file, segments[0].line, segments[0].column)
        node = self.values.get(path)
        if node is None:
            return SourceLocation(self.file, 0, 0)
        return SourceLocation(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def expression(self, path: Path, value: str) -> tuple[str, SourceLocation]:
        """The text to compile for the expression at ``path``, and where it starts.

        A scalar over several lines (plain, ``>`` or ``|``) is handed over line by line as
        it sits in the file, each line padded to its column, so that an error on the third
        line points at the third line. Whitespace between tokens means nothing to an
        expression, so folding or not gives the same expression.
        """
        segments = self.segments(path)
        if len(segments) < 2:
            return value, self.origin(path)
        left = min(segment.column for segment in segments)
        lines = [" " * (segment.column - left) + segment.text for segment in segments]
        return "\n".join(lines), SourceLocation(self.file, segments[0].line, left)

    def position(self, path: Path, offset: int) -> tuple[int, int]:
        """Line and column of character ``offset`` of the (folded) string at ``path``."""
        for segment in self.segments(path):
            if offset <= len(segment.text):
                return segment.line, segment.column + offset
            offset -= len(segment.text) + 1  # the space or newline that joined the lines
        origin = self.origin(path)
        return origin.line, origin.column + max(offset, 0)

    def segments(self, path: Path) -> list[Segment]:
        """The scalar's lines in the file, when they give back its value exactly."""
        node = self.values.get(path)
        if not isinstance(node, yaml.ScalarNode):
            return []
        start, end = node.start_mark, node.end_mark
        style = node.style
        if style in ("|", ">"):
            raw = self.text[start.index : end.index].split("\n")[1:]
            while raw and not raw[-1].strip():
                raw.pop()
            if not raw:
                return []
            indent = len(raw[0]) - len(raw[0].lstrip(" "))
            found = [
                Segment(start.line + 2 + k, indent + 1, line[indent:]) for k, line in enumerate(raw)
            ]
            joiner = "\n" if style == "|" else " "
        else:
            shift = 1 if style in ("'", '"') else 0
            raw = self.text[start.index + shift : end.index - shift].split("\n")
            found = [Segment(start.line + 1, start.column + 1 + shift, raw[0].rstrip())]
            for k, line in enumerate(raw[1:], start=1):
                stripped = line.strip()
                found.append(
                    Segment(start.line + 1 + k, len(line) - len(line.lstrip()) + 1, stripped)
                )
            joiner = " "
        if joiner.join(segment.text for segment in found) != node.value.rstrip("\n"):
            return []  # blank lines, escapes, more-indented lines: positions are approximate
        return found

    def _node(self, path: Path, *, at_key: bool) -> yaml.Node | None:
        if at_key and path in self.keys:
            return self.keys[path]
        for end in range(len(path), -1, -1):
            node = self.values.get(path[:end])
            if node is not None:
                return node
        return None


def load_yaml(text: str, file: str) -> tuple[object, SourceMap]:
    """Parse ``text``; raise ``RuleSetError`` with every structural problem found."""
    source = SourceMap(file, text)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        reason = " ".join(part for part in (error.context, error.problem) if part)
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise RuleSetError([Problem(file, line, column, f"YAML syntax error: {reason}")]) from None
    except yaml.YAMLError as error:
        raise RuleSetError([Problem(file, 0, 0, f"YAML error: {error}")]) from None
    if root is None:
        raise RuleSetError([Problem(file, 0, 0, "the file is empty")])
    converter = _Converter(source)
    value = converter.convert(root, ())
    if converter.problems:
        raise RuleSetError(converter.problems)
    return value, source


class _Converter:
    def __init__(self, source: SourceMap) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.constructor = SafeConstructor()
        self.budget = MAX_NODES

    def convert(self, node: yaml.Node, path: Path) -> object:
        self.budget -= 1
        if self.budget < 0:
            raise RuleSetError(
                [self.source.problem(path, f"the file expands to more than {MAX_NODES} values")]
            )
        self.source.values[path] = node
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, index)) for index, item in enumerate(node.value)]
        try:
            return self.constructor.construct_object(node, deep=True)
        except ConstructorError as error:
            self.problems.append(self.source.problem(path, f"bad value: {error.problem}"))
            return None

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, object]:
        result: dict[str, object] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._add(key_node, "merge keys (<<) are not supported: repeat the values")
                continue
            key = (
                self.constructor.construct_object(key_node)
                if isinstance(key_node, yaml.ScalarNode)
                else None
            )
            if not isinstance(key, str):
                self._add(key_node, f"keys must be text, not {_describe(key_node)}")
                continue
            if key in result:
                first = self.source.keys[(*path, key)].start_mark.line + 1
                self._add(key_node, f"duplicate key '{key}' (first given on line {first})")
                continue
            self.source.keys[(*path, key)] = key_node
            result[key] = self.convert(value_node, (*path, key))
        return result

    def _add(self, node: yaml.Node, message: str) -> None:
        mark = node.start_mark
        self.problems.append(Problem(self.source.file, mark.line + 1, mark.column + 1, message))


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        return f"{node.value!r}"
    return "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
