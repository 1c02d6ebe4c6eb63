"""Compile a checked expression to a Python function over one row (a mapping).

The typed tree is written out as the source of one small function and compiled with
``compile()``: Python's own bytecode is the fastest evaluator at hand (REFERENCE.md: ~0.3 µs
for a typical rule, against 5-40 µs for interpreting libraries). Only checked nodes reach
this module, every field becomes a local variable ``_vN`` and every literal is written with
``repr()``, so the generated text contains nothing a rule author typed except literal values.

Missing values are canonical inside the function: a missing number or string is NaN, a
missing bool is None. With NaN, ``==``, ``<``, ``in`` are already False, so the common
comparisons need no extra code; ``!=`` and ``not in`` get an explicit "present" guard.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, cast

import pandas as pd

from .schema import BOOL_VALUES
from .tree import (
    Arith,
    Call,
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
)

RowFunction = Callable[[Mapping[str, object]], Any]

_NAN = math.nan


def compile_rowwise(tree: Node, *, condition: bool, filename: str) -> RowFunction:
    namespace: dict[str, object] = {"__builtins__": {}, **_HELPERS}
    code = compile(generate_source(tree, condition=condition), filename, "exec")
    exec(code, namespace)  # only checked nodes reach the source, see the module docstring
    return cast(RowFunction, namespace["_evaluate"])


def generate_source(tree: Node, *, condition: bool) -> str:
    """The Python source of the row function (also handy to see what a rule compiles to)."""
    writer = _Writer()
    result = writer.truth(tree) if condition else writer.value(tree)
    lines = ["def _evaluate(row):", "    _get = row.get"]
    for name, (var, kind) in writer.fields.items():
        if kind is Kind.BOOL:
            lines.append(f"    {var} = _BOOL.get(_get({name!r}))")
        else:
            lines.append(f"    {var} = _get({name!r})")
            lines.append(f"    if {var} is None or {var} is _NA:")
            lines.append(f"        {var} = _NAN")
    returned = f"True if {result} else False" if condition else f"_float({result})"
    lines.append(f"    return {returned}")
    return "\n".join(lines) + "\n"


class _Operand:
    """An operand that the generated code reads more than once: computed once into a temp."""

    def __init__(self, code: str, temp: str | None) -> None:
        self.code, self.temp, self.used = code, temp, False

    def use(self) -> str:
        # Callers must ask in the order the generated code evaluates: the first use assigns.
        if self.temp is None:
            return self.code
        if self.used:
            return self.temp
        self.used = True
        return f"({self.temp} := {self.code})"


class _Writer:
    def __init__(self) -> None:
        self.fields: dict[str, tuple[str, Kind]] = {}
        self.temps = 0

    def operand(self, node: Node) -> _Operand:
        code = self.value(node)
        if isinstance(node, Field | Const | ListConst):
            return _Operand(code, None)  # cheap to repeat; a set literal stays a constant
        return self.temp(code)

    def temp(self, code: str) -> _Operand:
        self.temps += 1
        return _Operand(code, f"_t{self.temps}")

    def present(self, operand: _Operand, node: Node) -> str:
        """Code that is true when the operand is not missing."""
        code = operand.use()
        return f"{code} is not None" if node.kind is Kind.BOOL else f"{code} == {operand.use()}"

    def truth(self, node: Node) -> str:
        """Code whose truthiness is the node's meaning as a condition (missing is falsy)."""
        if isinstance(node, Logic):
            return "(" + f" {node.op} ".join(self.truth(op) for op in node.operands) + ")"
        return self.value(node)

    def value(self, node: Node) -> str:
        if isinstance(node, Field):
            if node.name not in self.fields:
                self.fields[node.name] = (f"_v{len(self.fields)}", node.kind)
            return self.fields[node.name][0]
        if isinstance(node, Const):
            return repr(node.value)
        if isinstance(node, ListConst):
            return "{" + ", ".join(repr(value) for value in node.values) + "}"
        if isinstance(node, Negate):
            return f"(-{self.value(node.operand)})"
        if isinstance(node, Not):
            return f"(not {self.truth(node.operand)})"
        if isinstance(node, Logic):
            # and/or return an operand, which may be a missing (None) bool; as a value the
            # result must be a plain bool, because missing means False here.
            code = self.truth(node)
            missing = any(operand.missing for operand in node.operands)
            return f"(True if {code} else False)" if missing else code
        if isinstance(node, Arith):
            return self._arith(node)
        if isinstance(node, Compare):
            return self._compare(node)
        if isinstance(node, IfElse):
            test = self.truth(node.test)
            return f"({self.value(node.body)} if {test} else {self.value(node.orelse)})"
        if isinstance(node, Call):
            return self._call(node)
        raise TypeError(f"unexpected node {node!r}")

    def _arith(self, node: Arith) -> str:
        if node.op == "**":
            return f"_pow({self.value(node.left)}, {self.value(node.right)})"
        if node.op == "/":
            right = self.operand(node.right)
            test = right.use()  # evaluated first by the conditional expression
            return f"({self.value(node.left)} / {right.use()} if {test} else _NAN)"
        return f"({self.value(node.left)} {node.op} {self.value(node.right)})"

    def _compare(self, node: Compare) -> str:
        left_node, left = node.first, self.operand(node.first)
        pairs = []
        for op, right_node in node.rest:
            right = self.operand(right_node)
            pairs.append(self._pair(op, (left, left_node), (right, right_node)))
            left, left_node = right, right_node
        return pairs[0] if len(pairs) == 1 else "(" + " and ".join(pairs) + ")"

    def _pair(
        self, op: CompareOp, left: tuple[_Operand, Node], right: tuple[_Operand, Node]
    ) -> str:
        (lhs, lnode), (rhs, rnode) = left, right
        if op in ("!=", "not in"):
            guards = [self.present(o, n) for o, n in ((lhs, lnode), (rhs, rnode)) if n.missing]
            return "(" + " and ".join([*guards, f"{lhs.use()} {op} {rhs.use()}"]) + ")"
        if op == "==" and lnode.kind is Kind.BOOL and lnode.missing and rnode.missing:
            # None == None is True, but two missing bools are not equal.
            return f"({self.present(lhs, lnode)} and {lhs.use()} == {rhs.use()})"
        # A NaN operand already makes ==, <, <=, >, >= and `in` False; so does one None.
        return f"({lhs.use()} {op} {rhs.use()})"

    def _call(self, node: Call) -> str:
        name, args = node.function, node.args
        if name in ("min", "max"):
            result = self.operand(args[0])
            for arg in args[1:]:
                result = self.temp(self._min_max(name, result, arg))
            return result.code
        if name == "coalesce":
            return self._coalesce(args)
        if name == "is_missing":
            if not args[0].missing:
                return "False"
            operand = self.operand(args[0])
            first = operand.use()
            if args[0].kind is Kind.BOOL:
                return f"({first} is None)"
            return f"({first} != {operand.use()})"
        if name == "round":
            return f"_round({self.value(args[0])}, {node.digits})"
        return f"_{name}(" + ", ".join(self.value(arg) for arg in args) + ")"

    def _min_max(self, name: str, left: _Operand, right_node: Node) -> str:
        right = self.operand(right_node)
        # Pick the left unless the right is better or the left is missing; a missing right
        # is skipped. That is numpy's fmin/fmax.
        cmp = "<=" if name == "min" else ">="
        test = f"{left.use()} {cmp} {right.use()}"
        if right_node.missing:
            test += f" or {right.use()} != {right.use()}"
        return f"({left.use()} if {test} else {right.use()})"

    def _coalesce(self, args: tuple[Node, ...]) -> str:
        head, *tail = args
        if not head.missing or not tail:
            return self.value(head)
        first = self.operand(head)
        present = self.present(first, head)
        return f"({first.use()} if {present} else {self._coalesce(tuple(tail))})"


def _pow(base: float, exponent: float) -> float:
    if base != base or exponent != exponent:  # pow(1, nan) is 1 in IEEE; here it is missing
        return _NAN
    try:
        return math.pow(base, exponent)
    except (ValueError, OverflowError, ZeroDivisionError):
        return _NAN


def _log(value: float) -> float:
    return math.log(value) if value > 0 else _NAN  # NaN > 0 is False too


def _exp(value: float) -> float:
    try:
        return math.exp(value)
    except OverflowError:
        return _NAN


def _round(value: float, digits: int) -> float:
    """Round half to even exactly as numpy.round does (scale, rint, unscale).

    Python's round(x, n) rounds the decimal representation instead, which differs in a few
    cases (round(2.675, 2) is 2.67 in Python, 2.68 in numpy); row-wise and vectorised
    evaluation must agree, so both use numpy's method.
    """
    if digits >= 0:
        scale = 10.0**digits
        scaled = value * scale
        return float(round(scaled)) / scale if math.isfinite(scaled) else scaled / scale
    scale = 10.0**-digits
    scaled = value / scale
    return float(round(scaled)) * scale if math.isfinite(scaled) else scaled * scale


def _clip(value: float, low: float, high: float) -> float:
    if value != value:
        return value
    if value < low:  # a NaN bound compares False and is skipped
        value = low
    if value > high:
        value = high
    return value


_HELPERS: dict[str, object] = {
    "_NAN": _NAN,
    "_NA": pd.NA,
    "_BOOL": BOOL_VALUES,
    "_float": float,
    "_abs": abs,
    "_pow": _pow,
    "_log": _log,
    "_exp": _exp,
    "_round": _round,
    "_clip": _clip,
}
