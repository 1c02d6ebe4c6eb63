"""Type rules of the whitelisted functions (``tree.FUNCTIONS``).

What each function means, missing values included, is in the package docstring; here each
call is checked for its argument count and types and given its result type.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from .tree import Call, Kind, Node, enum_values

if TYPE_CHECKING:
    from .check import Checker

MAX_DIGITS = 15
"""round(x, n) accepts whole-number literals n in [-MAX_DIGITS, MAX_DIGITS]."""

_LISTS = (Kind.NUMBER_LIST, Kind.STRING_LIST)


def check_call(checker: Checker, node: ast.Call) -> Node:
    if not isinstance(node.func, ast.Name):  # parse() admits calls of plain names only
        raise checker.error(node, "only the whitelisted functions can be called")
    name = node.func.id
    count = len(node.args)
    if name in ("min", "max", "coalesce"):
        if count < 2:
            raise checker.error(node, f"{name}() needs at least 2 arguments, got {count}")
    elif name == "clip":
        if count != 3:
            raise checker.error(node, f"clip(x, low, high) needs 3 arguments, got {count}")
    elif name == "round":
        if count not in (1, 2):
            raise checker.error(node, f"round() needs 1 or 2 arguments, got {count}")
    elif count != 1:
        raise checker.error(node, f"{name}() needs 1 argument, got {count}")

    if name == "is_missing":
        arg = checker.check(node.args[0])  # any type: only whether it is missing matters
        if arg.kind in _LISTS:
            raise checker.error(node.args[0], "is_missing() needs a value, not a list")
        return Call(kind=Kind.BOOL, missing=False, function=name, args=(arg,))
    if name == "coalesce":
        return _coalesce(checker, node)

    why = f"{name}() needs numbers"
    if name == "round":
        value = checker.require(node.args[0], Kind.NUMBER, why)
        digits = _digits(checker, node.args[1]) if count == 2 else 0
        return Call(
            kind=Kind.NUMBER, missing=value.missing, function=name, args=(value,), digits=digits
        )
    args = tuple(checker.require(arg, Kind.NUMBER, why) for arg in node.args)
    if name in ("min", "max"):
        missing = all(arg.missing for arg in args)  # missing arguments are skipped
    elif name in ("abs", "clip"):
        missing = args[0].missing  # clip() skips a missing bound
    else:  # log, exp: outside their domain or on overflow the result is missing
        missing = True
    return Call(kind=Kind.NUMBER, missing=missing, function=name, args=args)


def _coalesce(checker: Checker, node: ast.Call) -> Node:
    args = tuple(checker.check(arg) for arg in node.args)
    first = args[0]
    for arg_node, arg in zip(node.args, args, strict=True):
        if arg.kind in _LISTS:
            raise checker.error(arg_node, "coalesce() needs values, not lists")
        if arg.kind is not first.kind:
            raise checker.error(
                arg_node,
                "coalesce() arguments must have one type, but "
                f"{checker.describe(node.args[0], first)} and {checker.describe(arg_node, arg)}",
            )
    missing = all(arg.missing for arg in args)
    allowed = enum_values(args)
    return Call(kind=first.kind, missing=missing, allowed=allowed, function="coalesce", args=args)


def _digits(checker: Checker, node: ast.expr) -> int:
    value: object = None
    if isinstance(node, ast.Constant):
        value = node.value
    elif (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int)
    ):
        value = -node.operand.value
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_DIGITS:
        raise checker.error(
            node,
            f"round()'s digits must be a whole-number literal from -{MAX_DIGITS} to {MAX_DIGITS}",
        )
    return value
