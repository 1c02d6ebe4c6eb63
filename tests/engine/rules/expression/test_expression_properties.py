"""Property: for any well-typed expression and any rows, row-wise and vectorised agree.

Expressions are generated from a small grammar over a fixed schema; rows hold missing values
in every form a caller may send (None, NaN, pandas.NA, absent keys); the same rows are fed
to ``evaluate_frame`` in several column representations (float, object, nullable,
categorical, pandas string, Python scalars broadcast).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.rules.expression import FieldType, StringEnum, compile_expression

SCHEMA: dict[str, FieldType | str] = {
    "n1": "number",
    "n2": "number",
    "n3": "number",
    "s1": "string",
    "e1": StringEnum.of(["a", "b", "c"]),
    "b1": "bool",
    "b2": "bool",
}
NUMBER_FIELDS = ("n1", "n2", "n3")
STRING_FIELDS = ("s1", "e1")
BOOL_FIELDS = ("b1", "b2")
MAX_DEPTH = 3

Text = st.SearchStrategy[str]


def _join(template: str) -> Callable[[tuple[object, ...]], str]:
    return lambda parts: template.format(*parts)


@cache
def numbers(depth: int) -> Text:
    leaves = st.one_of(
        st.sampled_from(NUMBER_FIELDS),
        st.sampled_from(["0", "1", "2", "3", "0.5", "2.5", "10", "1e3", "-1", "-0.25"]),
    )
    if depth == 0:
        return leaves
    sub = numbers(depth - 1)
    op = st.sampled_from(["+", "-", "*", "/", "**"])
    return st.one_of(
        leaves,
        st.tuples(sub, op, sub).map(_join("({} {} {})")),
        sub.map("(-{})".format),
        st.tuples(st.sampled_from(["min", "max"]), st.lists(sub, min_size=2, max_size=3)).map(
            lambda parts: f"{parts[0]}({', '.join(parts[1])})"
        ),
        st.lists(sub, min_size=2, max_size=3).map(lambda args: f"coalesce({', '.join(args)})"),
        st.tuples(st.sampled_from(["abs", "log", "exp", "round"]), sub).map(_join("{}({})")),
        st.tuples(sub, st.integers(-2, 3)).map(_join("round({}, {})")),
        st.tuples(sub, sub, sub).map(_join("clip({}, {}, {})")),
        st.tuples(sub, bools(depth - 1), sub).map(_join("({} if {} else {})")),
    )


@cache
def strings(depth: int) -> Text:
    # Literals stay inside e1's allowed values: comparing e1 with 'x' is a load-time error.
    leaves = st.one_of(st.sampled_from(STRING_FIELDS), st.sampled_from(["'a'", "'b'", "'c'"]))
    if depth == 0:
        return leaves
    sub = strings(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(sub, bools(depth - 1), sub).map(_join("({} if {} else {})")),
        st.lists(sub, min_size=2, max_size=3).map(lambda args: f"coalesce({', '.join(args)})"),
    )


@cache
def bools(depth: int) -> Text:
    leaves = st.sampled_from([*BOOL_FIELDS, "True", "False"])
    if depth == 0:
        return leaves
    number, string, sub = numbers(depth - 1), strings(depth - 1), bools(depth - 1)
    ordering = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
    equality = st.sampled_from(["==", "!="])
    membership = st.sampled_from(["in", "not in"])
    return st.one_of(
        leaves,
        st.tuples(number, ordering, number).map(_join("({} {} {})")),
        st.tuples(number, ordering, number, ordering, number).map(_join("({} {} {} {} {})")),
        st.tuples(string, equality, string).map(_join("({} {} {})")),
        st.tuples(string, membership, st.sampled_from(["['a']", "['a', 'c']"])).map(
            _join("({} {} {})")
        ),
        st.tuples(number, membership, st.sampled_from(["[0, 1]", "[2.5, -1, 3]"])).map(
            _join("({} {} {})")
        ),
        st.tuples(sub, equality, sub).map(_join("({} {} {})")),
        st.tuples(sub, st.sampled_from(["and", "or"]), sub).map(_join("({} {} {})")),
        sub.map("(not {})".format),
        st.one_of(number, string, sub).map("is_missing({})".format),
        st.lists(sub, min_size=2, max_size=3).map(lambda args: f"coalesce({', '.join(args)})"),
        st.tuples(sub, sub, sub).map(_join("({} if {} else {})")),
    )


MISSING = st.sampled_from([None, math.nan, pd.NA])
NUMBER_VALUES = st.one_of(
    MISSING,
    st.integers(-5, 5),
    st.sampled_from([0.0, -0.0, 0.5, 1.0, 2.5, 3.0, 1e3]),
    st.floats(-100, 100, allow_nan=False),
)
STRING_VALUES = st.one_of(MISSING, st.sampled_from(["a", "b", "x"]))
ENUM_VALUES = st.one_of(MISSING, st.sampled_from(["a", "b", "c"]))
BOOL_VALUES = st.one_of(MISSING, st.sampled_from([True, False]))
VALUES = {
    **dict.fromkeys(NUMBER_FIELDS, NUMBER_VALUES),
    "s1": STRING_VALUES,
    "e1": ENUM_VALUES,
    **dict.fromkeys(BOOL_FIELDS, BOOL_VALUES),
}


@st.composite
def rows(draw: st.DrawFn) -> dict[str, object]:
    row: dict[str, object] = {}
    for name, values in VALUES.items():
        if draw(st.integers(0, 9)) > 0:  # otherwise the key is absent
            row[name] = draw(values)
    return row


def _column(name: str, values: list[object], form: int) -> object:
    """One field of the frame, in one of several representations a caller may hand us."""
    plain = [None if value is pd.NA else value for value in values]
    if name in NUMBER_FIELDS:
        floats = np.array([math.nan if v is None else float(v) for v in plain])  # type: ignore[arg-type]
        forms: list[object] = [floats, np.array(values, dtype=object), pd.array(floats, "Float64")]
    elif name in STRING_FIELDS:
        forms = [
            np.array(values, dtype=object),
            pd.Series(plain, dtype="category"),
            pd.Series(plain, dtype="str"),
        ]
    else:
        forms = [np.array(values, dtype=object), pd.Series(plain, dtype="boolean")]
    return forms[form % len(forms)]


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _same(row_result: object, frame_result: object) -> bool:
    if isinstance(row_result, bool):
        return isinstance(frame_result, np.bool_) and bool(frame_result) is row_result
    left, right = float(row_result), float(frame_result)  # type: ignore[arg-type]
    if math.isnan(left) or math.isnan(right):
        return math.isnan(left) and math.isnan(right)
    return left == right or math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-12)


def _check(text: str, kind: Any, data: list[dict[str, object]], form: int) -> None:
    compiled = compile_expression(text, SCHEMA, kind)
    per_row = [compiled.evaluate(row) for row in data]
    frame: dict[str, object] = {"_rows": np.zeros(len(data))}  # fixes the length if all scalar
    for index, name in enumerate(SCHEMA):
        values = [row.get(name) for row in data]
        if len({repr(value) for value in values}) == 1 and (form + index) % 4 == 0:
            frame[name] = values[0]  # a context scalar in place of a constant column
        elif (form + index) % 3 == 2 and all(_missing(value) for value in values):
            continue  # an absent column is missing in every row, as an absent key is
        else:
            frame[name] = _column(name, values, form + index)
    for source in (frame, pd.DataFrame(frame)):
        vectorised = compiled.evaluate_frame(source)
        assert vectorised.shape == (len(data),)
        for index, (expected, got) in enumerate(zip(per_row, vectorised, strict=True)):
            assert _same(expected, got), f"{text!r} row {index} {data[index]}: {expected} != {got}"


SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(bools(MAX_DEPTH), st.lists(rows(), min_size=1, max_size=12), st.integers(0, 20))
def test_conditions_agree_row_by_row_and_vectorised(
    text: str, data: list[dict[str, object]], form: int
) -> None:
    _check(text, "condition", data, form)


@SETTINGS
@given(numbers(MAX_DEPTH), st.lists(rows(), min_size=1, max_size=12), st.integers(0, 20))
def test_formulas_agree_row_by_row_and_vectorised(
    text: str, data: list[dict[str, object]], form: int
) -> None:
    _check(text, "number", data, form)
