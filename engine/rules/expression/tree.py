"""The checked, typed form of an expression that both evaluators walk.

The checker turns Python's ``ast`` into these nodes only after every name, type and call has
been verified, so the row-wise compiler and the vectorised evaluator never see anything that
was not on the whitelist, and they share one notion of each node's type and missingness.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

FUNCTIONS: tuple[str, ...] = (
    "abs",
    "clip",
    "coalesce",
    "exp",
    "is_missing",
    "log",
    "max",
    "min",
    "round",
)
"""The only callables an expression may name."""


class Kind(enum.Enum):
    """The type of a node; the value is how error messages describe it."""

    NUMBER = "a number"
    BOOL = "true/false"
    STRING = "a string"
    NUMBER_LIST = "a list of numbers"
    STRING_LIST = "a list of strings"


ArithOp = Literal["+", "-", "*", "/", "**"]
CompareOp = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not in"]
Scalar = float | str | bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    kind: Kind
    # Whether the value can be missing at run time; lets both evaluators skip missing-value
    # guards where they cannot matter (literals, comparisons, and/or/not).
    missing: bool
    # For strings: every value this node can take, when known (string enums and literals).
    allowed: frozenset[str] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Field(Node):
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Const(Node):
    value: Scalar


@dataclass(frozen=True, slots=True, kw_only=True)
class ListConst(Node):
    values: tuple[Scalar, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Negate(Node):
    operand: Node


@dataclass(frozen=True, slots=True, kw_only=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True, slots=True, kw_only=True)
class Arith(Node):
    op: ArithOp
    left: Node
    right: Node


@dataclass(frozen=True, slots=True, kw_only=True)
class Logic(Node):
    op: Literal["and", "or"]
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Compare(Node):
    """A comparison chain ``first op1 x1 op2 x2 ...``; it means the pairwise ``and``."""

    first: Node
    rest: tuple[tuple[CompareOp, Node], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class IfElse(Node):
    test: Node
    body: Node
    orelse: Node


@dataclass(frozen=True, slots=True, kw_only=True)
class Call(Node):
    function: str
    args: tuple[Node, ...]
    # round()'s number of decimals: a literal, checked at load, so it is not a node.
    digits: int = 0


def enum_values(nodes: tuple[Node, ...]) -> frozenset[str] | None:
    """The values an if/else or coalesce() of string enums and literals can take.

    Known only when every part is an enum or a literal and at least one is an enum: the
    check is about typos against a field's declared values, not literals among themselves.
    """
    values: set[str] = set()
    for node in nodes:
        if isinstance(node, Const) and isinstance(node.value, str):
            values.add(node.value)
        elif node.allowed is not None:
            values |= node.allowed
        else:
            return None
    return frozenset(values) if any(node.allowed is not None for node in nodes) else None
