"""``compile_expression``: text in, a checked expression that evaluates per row or per frame."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal, overload

from engine.errors import RuleError

from .check import Checker
from .columns import Frame, Mask, Numbers
from .errors import SourceLocation
from .parse import parse
from .rowwise import RowFunction, compile_rowwise
from .schema import FieldType, normalise_schema
from .tree import Field, Kind, Node
from .vectorised import evaluate_frame

ExpressionKind = Literal["condition", "number"]


class CompiledExpression:
    """One expression, checked and compiled once, evaluated many times.

    ``evaluate(row)`` reads the fields from a mapping (an absent key is a missing value);
    ``evaluate_frame(frame)`` does the same for every row of a DataFrame or of a mapping of
    equally long arrays and scalars (a scalar applies to every row) at numpy speed, reading
    columns by position. ``context`` adds or overrides fields for the whole frame, e.g. the
    channel of a batch run. Instances pickle by recompiling from their text.
    """

    __slots__ = ("_evaluate", "fields", "kind", "origin", "schema", "text", "tree")

    def __init__(
        self,
        text: str,
        kind: ExpressionKind,
        origin: SourceLocation,
        tree: Node,
        schema: Mapping[str, FieldType],
        function: RowFunction,
    ) -> None:
        self.text = text
        self.kind: ExpressionKind = kind
        self.origin = origin
        self.tree = tree
        self.schema = schema
        self.fields: frozenset[str] = frozenset(_fields(tree))
        """The schema fields the expression reads."""
        self._evaluate = function

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.text!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # The row function is generated code: rebuild it rather than pickle it, so a rule
        # set can travel to batch workers (Spark, Dask) with the standard pickle.
        return (compile_expression, (self.text, dict(self.schema), self.kind, self.origin))

    def _run(self, row: Mapping[str, object]) -> Any:
        try:
            return self._evaluate(row)
        except TypeError as error:  # a row value of the wrong type, e.g. text in a number
            where = f"{self.origin.file}:{self.origin.line}:{self.origin.column}"
            message = f"{where}: cannot evaluate {self.text!r} on this row: {error}"
            raise RuleError(message) from None


class Condition(CompiledExpression):
    """A compiled expression that is true or false; missing counts as false."""

    __slots__ = ()

    def evaluate(self, row: Mapping[str, object]) -> bool:
        result: bool = self._run(row)
        return result

    def evaluate_frame(self, frame: Frame, context: Mapping[str, object] | None = None) -> Mask:
        """A bool array with one element per row."""
        return evaluate_frame(self.tree, frame, context)  # type: ignore[return-value]


class Formula(CompiledExpression):
    """A compiled expression that gives a number, or NaN when it is missing."""

    __slots__ = ()

    def evaluate(self, row: Mapping[str, object]) -> float:
        result: float = self._run(row)
        return result

    def evaluate_frame(self, frame: Frame, context: Mapping[str, object] | None = None) -> Numbers:
        """A float64 array with one element per row, NaN where the result is missing."""
        return evaluate_frame(self.tree, frame, context)  # type: ignore[return-value]


@overload
def compile_expression(
    text: str,
    schema: Mapping[str, FieldType | str],
    kind: Literal["condition"],
    origin: SourceLocation | None = None,
) -> Condition: ...
@overload
def compile_expression(
    text: str,
    schema: Mapping[str, FieldType | str],
    kind: Literal["number"],
    origin: SourceLocation | None = None,
) -> Formula: ...
@overload
def compile_expression(
    text: str,
    schema: Mapping[str, FieldType | str],
    kind: ExpressionKind,
    origin: SourceLocation | None = None,
) -> Condition | Formula: ...
def compile_expression(
    text: str,
    schema: Mapping[str, FieldType | str],
    kind: ExpressionKind,
    origin: SourceLocation | None = None,
) -> Condition | Formula:
    """Parse, whitelist-check, type-check and compile ``text``.

    ``kind="condition"`` requires true/false, ``kind="number"`` a number. ``origin`` says
    where the text starts in its file, for error messages. Raises ``ExpressionError`` (a
    ``RuleError``) pointing at the problem.
    """
    origin = origin or SourceLocation()
    body, source = parse(text, origin)
    checked_schema = normalise_schema(schema)
    tree = Checker(source, checked_schema).check(body)
    wanted = Kind.BOOL if kind == "condition" else Kind.NUMBER
    if tree.kind is not wanted:
        what = (
            "a condition must be true/false"
            if kind == "condition"
            else "a formula must be a number"
        )
        raise source.error(body, f"{what}, but this expression is {tree.kind.value}")
    try:
        function = compile_rowwise(
            tree, condition=kind == "condition", filename=f"<{origin.file}:{origin.line}>"
        )
    except (SyntaxError, RecursionError, MemoryError):  # e.g. min() of min() of many args
        raise source.error(body, "the expression is too complex to compile") from None
    if kind == "condition":
        return Condition(source.text, kind, origin, tree, checked_schema, function)
    return Formula(source.text, kind, origin, tree, checked_schema, function)


def _fields(node: Node) -> list[str]:
    if isinstance(node, Field):
        return [node.name]
    found: list[str] = []
    for field in dataclasses.fields(node):
        stack = [getattr(node, field.name)]
        while stack:  # children are nodes, tuples of nodes, or (operator, node) pairs
            item = stack.pop()
            if isinstance(item, Node):
                found.extend(_fields(item))
            elif isinstance(item, tuple):
                stack.extend(item)
    return found
