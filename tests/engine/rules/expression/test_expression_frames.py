"""evaluate_frame over the column forms callers hand in: pandas dtypes, arrays, scalars."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pandas as pd
import pytest

from engine.errors import RuleError
from engine.rules.expression import (
    Condition,
    FieldType,
    Formula,
    StringEnum,
    compile_expression,
)

SCHEMA: dict[str, FieldType | str] = {
    "x": "number",
    "y": "number",
    "segment": StringEnum.of(["vip", "affiliated", "standard"]),
    "channel": "string",
    "intent": "string",
    "flag": "bool",
}
CONDITION = "segment in ['vip', 'affiliated'] and x > 1"


def _condition(text: str = CONDITION) -> Condition:
    return compile_expression(text, SCHEMA, "condition")


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [{str(k): v for k, v in row.items()} for row in frame.astype(object).to_dict("records")]


def test_categorical_columns_are_compared_by_category() -> None:
    segment = pd.Categorical(
        ["vip", None, "standard", "affiliated", "vip"],
        categories=["vip", "standard", "affiliated", "unused"],
    )
    frame = pd.DataFrame({"segment": segment, "x": [2.0, 2.0, 2.0, 2.0, 0.0]})
    compiled = compile_expression(CONDITION, SCHEMA, "condition")
    assert compiled.evaluate_frame(frame).tolist() == [True, False, False, True, False]
    not_in = compile_expression("segment not in ['vip']", SCHEMA, "condition")
    assert not_in.evaluate_frame(frame).tolist() == [False, False, True, True, False]


@pytest.mark.parametrize("dtype", ["category", "str", "object", "string"])
def test_string_column_dtypes_agree(dtype: str) -> None:
    values = ["a", None, "b", "a"]
    frame = pd.DataFrame(
        {"channel": pd.Series(values, dtype=dtype), "intent": ["a", "a", None, "b"]}
    )
    compiled = compile_expression("channel == intent or channel == 'b'", SCHEMA, "condition")
    assert compiled.evaluate_frame(frame).tolist() == [True, False, True, False]
    rows = _records(frame)
    assert [compiled.evaluate(row) for row in rows] == [True, False, True, False]


def test_two_categoricals_with_different_categories() -> None:
    frame = pd.DataFrame(
        {
            "channel": pd.Categorical(["web", "phone", "shop", None]),
            "intent": pd.Categorical(["phone", "phone", "web", None], categories=["web", "phone"]),
        }
    )
    equal = compile_expression("channel == intent", SCHEMA, "condition")
    assert equal.evaluate_frame(frame).tolist() == [False, True, False, False]
    unequal = compile_expression("channel != intent", SCHEMA, "condition")
    assert unequal.evaluate_frame(frame).tolist() == [True, False, True, False]
    chosen = compile_expression(
        "(channel if x > 0 else intent) == coalesce(intent, 'shop')", SCHEMA, "condition"
    )
    frame["x"] = [1, -1, 1, 1]
    assert chosen.evaluate_frame(frame).tolist() == [False, True, False, False]


@pytest.mark.parametrize(
    "column",
    [
        pd.array([1, None, 3], dtype="Int64"),
        pd.array([1.0, None, 3.0], dtype="Float64"),
        np.array([1, None, 3.0], dtype=object),
        np.array([1.0, np.nan, 3.0]),
        [1, None, 3],
    ],
)
def test_number_columns_with_missing_values(column: object) -> None:
    compiled = compile_expression("x * 2", SCHEMA, "number")
    result = compiled.evaluate_frame({"x": column})
    np.testing.assert_array_equal(result, [2.0, np.nan, 6.0])
    assert result.dtype == np.float64


@pytest.mark.parametrize(
    "column",
    [
        pd.array([True, None, False], dtype="boolean"),
        np.array([True, None, False], dtype=object),
        np.array([1.0, np.nan, 0.0]),
        [True, pd.NA, False],
    ],
)
def test_bool_columns_with_missing_values(column: object) -> None:
    frame = {"flag": column}
    assert _condition("flag").evaluate_frame(frame).tolist() == [True, False, False]
    assert _condition("not flag").evaluate_frame(frame).tolist() == [False, True, True]
    assert _condition("is_missing(flag)").evaluate_frame(frame).tolist() == [False, True, False]


def test_plain_bool_column_has_no_missing() -> None:
    frame = pd.DataFrame({"flag": [True, False]})
    assert _condition("flag != False").evaluate_frame(frame).tolist() == [True, False]


def test_context_scalars_broadcast_over_the_columns() -> None:
    compiled = compile_expression("channel == 'phone' and x > y and flag", SCHEMA, "condition")
    frame = {"x": np.array([1.0, 5.0, 7.0]), "y": 3, "channel": "phone", "flag": True}
    assert compiled.evaluate_frame(frame).tolist() == [False, True, True]
    assert compiled.evaluate_frame({**frame, "channel": "web"}).tolist() == [False] * 3
    assert compiled.evaluate_frame({**frame, "channel": None}).tolist() == [False] * 3


def test_scalars_only_give_one_row() -> None:
    compiled = compile_expression("x + y", SCHEMA, "number")
    assert compiled.evaluate_frame({"x": 1, "y": 2.5}).tolist() == [3.5]


def test_an_absent_column_is_missing_in_every_row() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    compiled = compile_expression("coalesce(y, x) + 1", SCHEMA, "number")
    assert compiled.evaluate_frame(frame).tolist() == [2.0, 3.0]
    assert _condition("not (y > 1)").evaluate_frame(frame).tolist() == [True, True]


def test_the_result_is_a_fresh_array() -> None:
    x = np.array([1.0, 2.0])
    result = compile_expression("x", SCHEMA, "number").evaluate_frame({"x": x})
    result[0] = 99.0
    assert x[0] == 1.0


def test_an_empty_frame_gives_an_empty_result() -> None:
    frame = pd.DataFrame({"x": pd.Series([], dtype=float), "segment": pd.Series([], dtype=object)})
    assert _condition().evaluate_frame(frame).shape == (0,)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ({"x": np.zeros(3), "segment": np.array(["vip"] * 2, dtype=object)}, "has shape (2,)"),
        ({"x": np.zeros((3, 2))}, "has shape (3, 2)"),
        ({"x": np.array(["a", "b"])}, "cannot be read as numbers"),
        (pd.DataFrame([[1.0, 2.0]], columns=["x", "x"]), "more than one column named 'x'"),
    ],
)
def test_malformed_frames_are_rule_errors(
    frame: pd.DataFrame | dict[str, object], message: str
) -> None:
    with pytest.raises(RuleError, match=re.escape(message)):
        _condition().evaluate_frame(frame)


def test_a_row_value_of_the_wrong_type_is_a_rule_error() -> None:
    with pytest.raises(RuleError, match="cannot evaluate"):
        _condition().evaluate({"x": "ten", "segment": "vip"})


def test_large_frame_matches_row_by_row_on_a_sample() -> None:
    rng = np.random.default_rng(7)
    size = 50_000
    frame = pd.DataFrame(
        {
            "x": np.where(rng.random(size) < 0.1, np.nan, rng.normal(2, 2, size)),
            "y": rng.integers(-3, 3, size),
            "segment": pd.Categorical(
                rng.choice(np.array(["vip", "affiliated", "standard", None], dtype=object), size)
            ),
            "flag": pd.Series(
                rng.choice(np.array([True, False, None], dtype=object), size), dtype="boolean"
            ),
        }
    )
    compiled = compile_expression(
        "(x / y > 0.5 or flag) and segment != 'standard' and not is_missing(segment)",
        SCHEMA,
        "condition",
    )
    result = compiled.evaluate_frame(frame)
    records = _records(frame)
    for index in rng.choice(size, 500, replace=False):
        assert result[index] == compiled.evaluate(records[index])


def test_fields_lists_what_the_expression_reads() -> None:
    compiled = compile_expression("coalesce(x, y) > 1 and flag", SCHEMA, "condition")
    assert compiled.fields == frozenset({"x", "y", "flag"})
    assert repr(compiled) == "Condition('coalesce(x, y) > 1 and flag')"


def test_context_adds_or_overrides_fields_for_the_whole_frame() -> None:
    frame = pd.DataFrame({"x": [1.0, 5.0], "channel": ["web", "web"]})
    compiled = _condition("channel == 'phone' and x > 2")
    assert compiled.evaluate_frame(frame).tolist() == [False, False]
    assert compiled.evaluate_frame(frame, context={"channel": "phone"}).tolist() == [False, True]


def test_compiled_expressions_pickle_by_recompiling() -> None:
    compiled = compile_expression("coalesce(x, 0) * 2 if segment == 'vip' else 1", SCHEMA, "number")
    copy = pickle.loads(pickle.dumps(compiled))
    assert isinstance(copy, Formula)
    assert copy.text == compiled.text
    assert copy.evaluate({"segment": "vip", "x": 2}) == 4.0
    assert copy.evaluate_frame({"segment": "vip", "x": np.array([2.0, np.nan])}).tolist() == [
        4.0,
        0.0,
    ]
