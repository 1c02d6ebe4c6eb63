"""Evaluate a checked expression over whole columns with numpy, never looping over rows.

The tree is walked once per call and every node becomes one or a few numpy operations over
all rows, with missing values carried explicitly (NaN for numbers, a mask for bools, code -1
for strings; see ``columns``). Each rule mirrors the row-wise compiler, so the same text
gives the same answer row by row and for a whole frame; the property test holds them to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import reduce

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import columns
from .columns import Bools, Codes, Frame, Mask, Numbers, Strings
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

Value = Numbers | Bools | Strings
_NAN = np.float64(np.nan)


def evaluate_frame(
    tree: Node, frame: Frame, context: Mapping[str, object] | None = None
) -> Numbers | Mask:
    """Bool array for a condition, float64 array (NaN where missing) for a number."""
    length = columns.frame_length(frame)
    with np.errstate(all="ignore"):  # division by zero, overflow: handled as missing below
        result = _Evaluator(frame, context or {}, length).value(tree)
    if isinstance(result, Bools):
        return np.array(np.broadcast_to(result.truth(), (length,)), dtype=np.bool_)
    if isinstance(result, Strings):
        raise TypeError("a string expression has no array form")
    return np.array(np.broadcast_to(result, (length,)), dtype=np.float64)


class _Evaluator:
    def __init__(self, frame: Frame, context: Mapping[str, object], length: int) -> None:
        self.frame, self.context, self.length = frame, context, length
        self.cache: dict[str, Value] = {}

    def value(self, node: Node) -> Value:
        if isinstance(node, Field):
            return self._field(node)
        if isinstance(node, Const):
            if node.kind is Kind.BOOL:
                return Bools(np.asarray(bool(node.value)), None)
            if node.kind is Kind.STRING:
                return Strings(np.asarray(0, dtype=np.intp), np.asarray([node.value], dtype=object))
            return np.asarray(node.value, dtype=np.float64)
        if isinstance(node, Negate):
            return -self.number(node.operand)
        if isinstance(node, Not):
            return Bools(~self.truth(node.operand), None)
        if isinstance(node, Logic):
            combine = np.logical_and if node.op == "and" else np.logical_or
            return Bools(reduce(combine, (self.truth(op) for op in node.operands)), None)
        if isinstance(node, Arith):
            return _arith(node.op, self.number(node.left), self.number(node.right))
        if isinstance(node, Compare):
            return Bools(self._compare(node), None)
        if isinstance(node, IfElse):
            test = self.truth(node.test)
            return _where(test, self.value(node.body), self.value(node.orelse))
        if isinstance(node, Call):
            return self._call(node)
        raise TypeError(f"unexpected node {node!r}")

    def number(self, node: Node) -> Numbers:
        result = self.value(node)
        if isinstance(result, Bools | Strings):
            raise TypeError(f"{node!r} is not a number")
        return result

    def truth(self, node: Node) -> Mask:
        result = self.value(node)
        if not isinstance(result, Bools):
            raise TypeError(f"{node!r} is not a condition")
        return result.truth()

    def _field(self, node: Field) -> Value:
        if node.name not in self.cache:
            if node.name in self.context:
                raw = self.context[node.name]
            else:
                raw = columns.column(self.frame, node.name)
            read: Value
            if node.kind is Kind.NUMBER:
                read = columns.numbers(raw, node.name, self.length)
            elif node.kind is Kind.BOOL:
                read = columns.bools(raw, node.name, self.length)
            else:
                read = columns.strings(raw, node.name, self.length)
            self.cache[node.name] = read
        return self.cache[node.name]

    def _compare(self, node: Compare) -> Mask:
        result: Mask | None = None
        left = self.value(node.first)
        for op, right_node in node.rest:
            if isinstance(right_node, ListConst):
                pair = _member(op, left, right_node.values)
                right: Value = left  # a list cannot be chained further (checked at load)
            else:
                right = self.value(right_node)
                pair = _pair(op, left, right)
            result = pair if result is None else result & pair
            left = right
        if result is None:
            raise TypeError("a comparison without operands")
        return result

    def _call(self, node: Call) -> Value:
        name = node.function
        if name == "is_missing":
            return Bools(_missing(self.value(node.args[0])), None)
        if name == "coalesce":
            values = [self.value(arg) for arg in node.args]
            return reduce(lambda acc, item: _where(~_missing(acc), acc, item), values)
        args = [self.number(arg) for arg in node.args]
        if name in ("min", "max"):
            return reduce(np.fmin if name == "min" else np.fmax, args)  # both skip NaN
        if name == "abs":
            return np.abs(args[0])
        if name == "round":
            return np.round(args[0], node.digits)
        if name == "clip":
            value, low, high = args
            return np.where(np.isnan(value), _NAN, np.fmin(np.fmax(value, low), high))
        if name == "log":
            positive = args[0] > 0
            return np.where(positive, np.log(np.where(positive, args[0], 1.0)), _NAN)
        if name == "exp":
            result = np.exp(args[0])
            return np.where(np.isinf(result) & np.isfinite(args[0]), _NAN, result)
        raise TypeError(f"unexpected function {name}()")


def _arith(op: str, left: Numbers, right: Numbers) -> Numbers:
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        return np.where(right == 0, _NAN, left / right)
    result = np.power(left, right)
    # As math.pow in a row: a missing operand, or a finite base and exponent whose power
    # is not finite (overflow, 0 ** -1, (-8) ** 0.5), give missing.
    finite = np.isfinite(left) & np.isfinite(right)
    bad = np.isnan(left) | np.isnan(right) | (finite & ~np.isfinite(result))
    return np.where(bad, _NAN, result)


def _pair(op: CompareOp, left: Value, right: Value) -> Mask:
    if isinstance(left, Strings) and isinstance(right, Strings):
        left_codes, right_codes, _ = _unify(left, right)
        present: Mask = (left_codes >= 0) & (right_codes >= 0)
        same: Mask = np.equal(left_codes, right_codes)
        return present & same if op == "==" else present & ~same
    if isinstance(left, Bools) and isinstance(right, Bools):
        present = ~_missing(left) & ~_missing(right)
        same = np.equal(left.values, right.values)
        return present & same if op == "==" else present & ~same
    if isinstance(left, Bools | Strings) or isinstance(right, Bools | Strings):
        raise TypeError(f"cannot compare {left!r} with {right!r}")
    if op == "!=":  # NaN != x is True in IEEE; here a comparison with missing is False
        differ: Mask = np.not_equal(left, right)
        return differ & ~np.isnan(left) & ~np.isnan(right)
    compare: dict[str, Callable[[Numbers, Numbers], Mask]] = {
        "==": np.equal, "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
    }  # fmt: skip
    return compare[op](left, right)


def _member(op: CompareOp, left: Value, values: tuple[object, ...]) -> Mask:
    if isinstance(left, Strings):
        # Decide once per distinct value, then gather by code; code -1 (missing) picks the
        # appended False, so a missing string is neither in nor "not in" the list.
        categories = pd.Index(left.categories, dtype=object)
        inside = np.asarray(categories.isin([str(value) for value in values]), dtype=np.bool_)
        table = inside if op == "in" else ~inside
        return np.append(table, False)[left.codes]
    if isinstance(left, Bools):
        raise TypeError("lists of true/false are refused at load")
    found = np.isin(left, np.asarray(values, dtype=np.float64))
    return found if op == "in" else ~found & ~np.isnan(left)


def _missing(value: Value) -> Mask:
    if isinstance(value, Strings):
        return value.codes < 0
    if isinstance(value, Bools):
        return np.zeros(value.values.shape, np.bool_) if value.missing is None else value.missing
    return np.isnan(value)


def _where(test: Mask, body: Value, orelse: Value) -> Value:
    if isinstance(body, Strings) and isinstance(orelse, Strings):
        body_codes, orelse_codes, categories = _unify(body, orelse)
        return Strings(np.where(test, body_codes, orelse_codes), categories)
    if isinstance(body, Bools) and isinstance(orelse, Bools):
        values = np.where(test, body.values, orelse.values)
        if body.missing is None and orelse.missing is None:
            return Bools(values, None)
        return Bools(values, np.where(test, _missing(body), _missing(orelse)))
    if isinstance(body, Bools | Strings) or isinstance(orelse, Bools | Strings):
        raise TypeError("branches of different types are refused at load")
    return np.where(test, body, orelse)


def _unify(left: Strings, right: Strings) -> tuple[Codes, Codes, npt.NDArray[np.object_]]:
    """Recode two string columns onto one set of distinct values, so codes compare."""
    if left.categories is right.categories:
        return left.codes, right.codes, left.categories
    union = pd.Index(left.categories, dtype=object).append(pd.Index(right.categories, dtype=object))
    union = union.unique()
    recode_left = np.append(union.get_indexer(pd.Index(left.categories)), -1).astype(np.intp)
    recode_right = np.append(union.get_indexer(pd.Index(right.categories)), -1).astype(np.intp)
    categories = np.asarray(union.to_numpy(dtype=object), dtype=object)
    return recode_left[left.codes], recode_right[right.codes], categories
