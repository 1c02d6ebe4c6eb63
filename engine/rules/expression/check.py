"""Whitelisted ``ast`` to typed ``tree`` nodes, checking names and types against a schema.

Every rule that a business owner can get wrong at load time is caught here, each with the
location of the offending part: unknown fields (with a "did you mean"), comparing a string
with a number, arithmetic on strings, ``and`` on a number, a list of the wrong element type
after ``in``, an enum compared with a value it can never take, bad function arguments.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Mapping
from typing import Literal

from .calls import check_call
from .errors import ExpressionError
from .parse import Source
from .schema import FieldType, StringEnum, ValueType
from .tree import (
    Arith,
    ArithOp,
    Compare,
    CompareOp,
    Const,
    Field,
    IfElse,
    Kind,
    ListConst,
    Logic,
    Negate,
    Node,
    Not,
    Scalar,
    enum_values,
)

_ARITH: dict[type[ast.operator], ArithOp] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
}  # fmt: skip
_COMPARE: dict[type[ast.cmpop], CompareOp] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.In: "in", ast.NotIn: "not in",
}  # fmt: skip
_FIELD_KINDS = {
    ValueType.NUMBER: Kind.NUMBER,
    ValueType.BOOL: Kind.BOOL,
    ValueType.STRING: Kind.STRING,
}
_LIST_KINDS = {Kind.NUMBER: Kind.NUMBER_LIST, Kind.STRING: Kind.STRING_LIST}


class Checker:
    """Builds the typed tree for one expression; raises on the first problem found."""

    def __init__(self, source: Source, schema: Mapping[str, FieldType]) -> None:
        self.source = source
        self.schema = schema

    def error(self, node: ast.AST, reason: str) -> ExpressionError:
        return self.source.error(node, reason)

    def describe(self, node: ast.AST, typed: Node) -> str:
        return f"{self.source.snippet(node)} is {typed.kind.value}"

    def check(self, node: ast.expr) -> Node:
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.Constant):
            return _constant(node.value)
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return self._list(node)
        if isinstance(node, ast.UnaryOp):
            return self._unary(node)
        if isinstance(node, ast.BinOp):
            return self._arith(node)
        if isinstance(node, ast.BoolOp):
            why = "'and'/'or' combine conditions"
            operands = tuple(self.require(value, Kind.BOOL, why) for value in node.values)
            op: Literal["and", "or"] = "and" if isinstance(node.op, ast.And) else "or"
            return Logic(kind=Kind.BOOL, missing=False, op=op, operands=operands)
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.IfExp):
            return self._if_else(node)
        if isinstance(node, ast.Call):
            return check_call(self, node)
        # parse() refuses everything else; reaching this is a bug in the whitelist.
        raise self.error(node, f"{type(node).__name__} is not allowed in an expression")

    def require(self, node: ast.expr, kind: Kind, why: str) -> Node:
        typed = self.check(node)
        if typed.kind is not kind:
            raise self.error(node, f"{why}, but {self.describe(node, typed)}")
        return typed

    def _name(self, node: ast.Name) -> Node:
        declared = self.schema.get(node.id)
        if declared is None:
            raise self.error(node, _unknown_field(node.id, list(self.schema)))
        if isinstance(declared, StringEnum):
            return Field(kind=Kind.STRING, missing=True, allowed=declared.values, name=node.id)
        return Field(kind=_FIELD_KINDS[declared], missing=True, name=node.id)

    def _list(self, node: ast.List | ast.Tuple | ast.Set) -> Node:
        values: list[Scalar] = []
        kinds: set[Kind] = set()
        for element in node.elts:
            typed = self.check(element)
            if isinstance(typed, Negate) and isinstance(typed.operand, Const):
                typed = _constant(-float(typed.operand.value))
            if not isinstance(typed, Const):
                raise self.error(element, "a list may hold only literal numbers or strings")
            if typed.kind not in _LIST_KINDS:
                raise self.error(element, f"a list may not hold {typed.kind.value}")
            kinds.add(typed.kind)
            values.append(typed.value)
        if not values:
            raise self.error(node, "the list is empty")
        if len(kinds) > 1:
            raise self.error(node, "a list must hold values of one type")
        (kind,) = kinds
        return ListConst(kind=_LIST_KINDS[kind], missing=False, values=tuple(values))

    def _unary(self, node: ast.UnaryOp) -> Node:
        if isinstance(node.op, ast.Not):
            operand = self.require(node.operand, Kind.BOOL, "'not' needs a condition")
            return Not(kind=Kind.BOOL, missing=False, operand=operand)
        sign = "-" if isinstance(node.op, ast.USub) else "+"
        operand = self.require(node.operand, Kind.NUMBER, f"unary '{sign}' needs a number")
        if sign == "+":
            return operand
        return Negate(kind=Kind.NUMBER, missing=operand.missing, operand=operand)

    def _arith(self, node: ast.BinOp) -> Node:
        op = _ARITH[type(node.op)]
        why = f"'{op}' needs numbers"
        left = self.require(node.left, Kind.NUMBER, why)
        right = self.require(node.right, Kind.NUMBER, why)
        # Division by zero and a power outside its domain give missing, whatever the inputs.
        missing = op in ("/", "**") or left.missing or right.missing
        return Arith(kind=Kind.NUMBER, missing=missing, op=op, left=left, right=right)

    def _compare(self, node: ast.Compare) -> Node:
        first = self.check(node.left)
        left_node, left = node.left, first
        rest: list[tuple[CompareOp, Node]] = []
        for op_node, right_node in zip(node.ops, node.comparators, strict=True):
            op = _COMPARE[type(op_node)]
            right = self.check(right_node)
            self._compare_pair(op, (left_node, left), (right_node, right))
            rest.append((op, right))
            left_node, left = right_node, right
        return Compare(kind=Kind.BOOL, missing=False, first=first, rest=tuple(rest))

    def _compare_pair(
        self, op: CompareOp, left: tuple[ast.expr, Node], right: tuple[ast.expr, Node]
    ) -> None:
        (left_node, left_t), (right_node, right_t) = left, right
        if left_t.kind in (Kind.NUMBER_LIST, Kind.STRING_LIST):
            raise self.error(left_node, "a list can only appear after 'in' or 'not in'")
        if op in ("in", "not in"):
            if right_t.kind not in (Kind.NUMBER_LIST, Kind.STRING_LIST):
                raise self.error(
                    right_node, f"'{op}' needs a list of values, e.g. segment in ['a', 'b']"
                )
            if _LIST_KINDS.get(left_t.kind) is not right_t.kind:
                raise self.error(
                    right_node,
                    f"{self.describe(left_node, left_t)}, but the list holds "
                    f"{right_t.kind.value.removeprefix('a list of ')}",
                )
        else:
            if right_t.kind in (Kind.NUMBER_LIST, Kind.STRING_LIST):
                raise self.error(right_node, f"a list can only appear after 'in', not '{op}'")
            if left_t.kind is not right_t.kind:
                raise self.error(
                    right_node,
                    f"cannot compare {self.source.snippet(left_node)} ({left_t.kind.value}) "
                    f"with {self.source.snippet(right_node)} ({right_t.kind.value})",
                )
            if op not in ("==", "!=") and left_t.kind is not Kind.NUMBER:
                raise self.error(
                    left_node, f"'{op}' compares numbers, but {self.describe(left_node, left_t)}"
                )
        self._check_allowed(left, right)
        self._check_allowed(right, left)

    def _check_allowed(
        self, constrained: tuple[ast.expr, Node], other: tuple[ast.expr, Node]
    ) -> None:
        """A string enum compared with a literal it can never equal is a typo, not a rule."""
        (node, typed), (other_node, other_t) = constrained, other
        if typed.allowed is None:
            return
        if isinstance(other_t, Const) and other_t.kind is Kind.STRING:
            candidates = [str(other_t.value)]
        elif isinstance(other_t, ListConst) and other_t.kind is Kind.STRING_LIST:
            candidates = [str(value) for value in other_t.values]
        else:
            return
        for value in candidates:
            if value not in typed.allowed:
                field = self.source.snippet(node)
                raise self.error(other_node, _not_allowed(value, field, typed.allowed))

    def _if_else(self, node: ast.IfExp) -> Node:
        test = self.require(node.test, Kind.BOOL, "the condition after 'if' must be true/false")
        body = self.check(node.body)
        orelse = self.check(node.orelse)
        if body.kind is not orelse.kind or body.kind in (Kind.NUMBER_LIST, Kind.STRING_LIST):
            raise self.error(
                node,
                "both branches of 'if ... else' must have one type, but "
                f"{self.describe(node.body, body)} and {self.describe(node.orelse, orelse)}",
            )
        allowed = enum_values((body, orelse))
        missing = body.missing or orelse.missing
        return IfElse(
            kind=body.kind, missing=missing, allowed=allowed, test=test, body=body, orelse=orelse
        )


def _constant(value: object) -> Node:
    if isinstance(value, bool):
        return Const(kind=Kind.BOOL, missing=False, value=value)
    if isinstance(value, str):
        return Const(kind=Kind.STRING, missing=False, value=value)
    if isinstance(value, int | float):
        return Const(kind=Kind.NUMBER, missing=False, value=float(value))
    raise TypeError(f"parse() let through the literal {value!r}")


def _unknown_field(name: str, known: list[str]) -> str:
    by_case = [candidate for candidate in known if candidate.lower() == name.lower()]
    close = by_case or difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"unknown field '{name}'; did you mean '{close[0]}'?"
    if 0 < len(known) <= 12:
        return f"unknown field '{name}' (known fields: {', '.join(sorted(known))})"
    return f"unknown field '{name}'"


def _not_allowed(value: str, field: str, allowed: frozenset[str]) -> str:
    choices = sorted(allowed)
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    listed = ", ".join(repr(choice) for choice in choices[:12])
    more = ", ..." if len(choices) > 12 else ""
    return f"{value!r} is not a value {field} can take ({listed}{more}){hint}"
