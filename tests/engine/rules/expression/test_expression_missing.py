"""The documented meaning of missing values, checked row by row and vectorised alike."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from engine.rules.expression import ExpressionKind, FieldType, StringEnum, compile_expression

SCHEMA: dict[str, FieldType | str] = {
    "x": "number",
    "y": "number",
    "satisfaction": "number",
    "segment": StringEnum.of(["vip", "affiliated", "standard"]),
    "intent": "string",
    "flag": "bool",
    "other": "bool",
}
NAN = math.nan
MISSING_FORMS = [None, NAN, pd.NA, "absent"]


def _absent(value: object) -> bool:
    return isinstance(value, str) and value == "absent"


def _evaluate(text: str, kind: ExpressionKind, row: dict[str, object]) -> object:
    """Evaluate one row both ways; they must agree, and the row-wise result is returned."""
    compiled = compile_expression(text, SCHEMA, kind)
    row = {name: value for name, value in row.items() if not _absent(value)}
    single = compiled.evaluate(row)
    columns = {name: np.array([value], dtype=object) for name, value in row.items()}
    columns["_rows"] = np.zeros(1)
    for frame in (columns, pd.DataFrame(columns), {**row, "_rows": np.zeros(1)}):
        vectorised = compiled.evaluate_frame(frame)
        assert vectorised.shape == (1,)
        if kind == "condition":
            assert vectorised.dtype == np.bool_
            assert bool(vectorised[0]) is single
        else:
            assert vectorised.dtype == np.float64
            assert (math.isnan(vectorised[0]) and math.isnan(single)) or vectorised[0] == single
    return single


@pytest.mark.parametrize("missing", MISSING_FORMS)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Every comparison with a missing operand is False ...
        ("x > 3", False),
        ("x <= 3", False),
        ("x == 3", False),
        ("x != 3", False),
        ("x in [1, 2]", False),
        ("x not in [1, 2]", False),
        ("x == y", False),
        ("x != y", False),
        ("segment == 'vip'", False),
        ("segment != 'vip'", False),
        ("segment in ['vip']", False),
        ("segment not in ['vip']", False),
        ("flag == True", False),
        ("flag == False", False),
        ("flag != True", False),
        ("0 < x < 10", False),
        # ... so its negation is True: missing counts as False in a boolean context.
        ("not (x > 3)", True),
        ("not (x <= 3)", True),
        ("not flag", True),
        ("not (segment == 'vip')", True),
        ("flag", False),
        ("flag or y > 1", True),
        ("flag and y > 1", False),
        ("(flag and y > 1) == False", True),
        ("1 if flag else 2", None),  # formula; see the number table below
        ("is_missing(x)", True),
        ("not is_missing(x) and x <= 3", False),
        ("is_missing(segment)", True),
        ("is_missing(flag)", True),
        ("is_missing(flag and y > 1)", False),
        ("coalesce(x, 5) == 5", True),
        ("coalesce(flag, True)", True),
        ("coalesce(segment, 'vip') == 'vip'", True),
        ("coalesce(x, y) > 0", True),
        ("is_missing(coalesce(x, x))", True),
        ("min(x, y) == 2", True),
        ("max(x, y, 1) == 2", True),
    ],
)
def test_conditions_with_a_missing_value(text: str, expected: bool | None, missing: object) -> None:
    if expected is None:
        return
    row = {"x": missing, "y": 2.0, "segment": missing, "flag": missing}
    assert _evaluate(text, "condition", row) is expected


@pytest.mark.parametrize("missing", MISSING_FORMS)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x + 1", NAN),
        ("x * 0", NAN),
        ("-x", NAN),
        ("x ** 0", NAN),  # IEEE says 1; a missing base stays missing
        ("1 ** x", NAN),
        ("abs(x)", NAN),
        ("round(x)", NAN),
        ("log(x)", NAN),
        ("exp(x)", NAN),
        ("clip(x, 0, 1)", NAN),
        ("clip(y, x, 1)", 1.0),  # a missing bound is skipped
        ("clip(y, 0, x)", 2.0),
        ("min(x, y)", 2.0),
        ("max(x, y)", 2.0),
        ("min(x, x)", NAN),
        ("coalesce(x, y)", 2.0),
        ("coalesce(x, x)", NAN),
        ("1 if flag else 2", 2.0),  # a missing condition takes the else branch
        ("x if y > 1 else 3", NAN),
        ("3 if is_missing(x) else x", 3.0),
    ],
)
def test_formulas_with_a_missing_value(text: str, expected: float, missing: object) -> None:
    row = {"x": missing, "y": 2.0, "flag": missing}
    result = _evaluate(text, "number", row)
    assert isinstance(result, float)
    assert (math.isnan(expected) and math.isnan(result)) or result == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x / 0", NAN),
        ("0 / 0", NAN),
        ("x / y", 0.5),
        ("0 ** -1", NAN),
        ("(-8) ** 0.5", NAN),
        ("10 ** 400", NAN),
        ("2 ** 10", 1024.0),
        ("log(0)", NAN),
        ("log(-1)", NAN),
        ("exp(1000)", NAN),
        ("exp(0)", 1.0),
        ("1e200 * 1e200", math.inf),  # + - * follow IEEE arithmetic
        ("round(2.5)", 2.0),  # half to even, as numpy
        ("round(3.5)", 4.0),
        ("round(2.675, 2)", 2.68),  # numpy's scale-and-round, not Python's decimal rounding
        ("round(1234.5, -2)", 1200.0),
        ("clip(5, 0, 3)", 3.0),
        ("clip(-1, 0, 3)", 0.0),
        ("min(3, 1, 2)", 1.0),
        ("max(3, 1, 2)", 3.0),
        ("abs(-2)", 2.0),
    ],
)
def test_formulas_that_python_could_not_compute_are_missing(text: str, expected: float) -> None:
    result = _evaluate(text, "number", {"x": 1, "y": 2})
    assert isinstance(result, float)
    assert (math.isnan(expected) and math.isnan(result)) or result == expected


def test_condition_results_are_plain_bools_even_for_numpy_inputs() -> None:
    compiled = compile_expression("x > 1 and (flag or y < 0)", SCHEMA, "condition")
    row = {"x": np.float64(2.0), "y": np.int64(-1), "flag": np.False_}
    assert compiled.evaluate(row) is True
    assert compiled.evaluate({**row, "x": np.float64(np.nan)}) is False


def test_formula_results_are_floats() -> None:
    compiled = compile_expression("x * 2", SCHEMA, "number")
    result = compiled.evaluate({"x": 3})
    assert type(result) is float
    assert result == 6.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), (1, True), (0, False), (1.0, True), (np.True_, True),
     (2, None), ("yes", None), (None, None), (NAN, None), (pd.NA, None)],
)  # fmt: skip
def test_bool_field_values(value: object, expected: bool | None) -> None:
    row = {"flag": value}
    assert _evaluate("flag", "condition", row) is (expected is True)
    assert _evaluate("is_missing(flag)", "condition", row) is (expected is None)
    assert _evaluate("flag == False", "condition", row) is (expected is False)


def test_two_missing_bools_are_not_equal() -> None:
    assert _evaluate("flag == other", "condition", {"flag": None, "other": NAN}) is False
    assert _evaluate("flag != other", "condition", {"flag": None, "other": True}) is False
    assert _evaluate("flag == other", "condition", {"flag": False, "other": 0}) is True


def test_two_missing_strings_are_not_equal() -> None:
    assert _evaluate("intent == segment", "condition", {"intent": None, "segment": NAN}) is False
    assert _evaluate("intent != segment", "condition", {"intent": "a", "segment": None}) is False
    assert _evaluate("intent == segment", "condition", {"intent": "vip", "segment": "vip"}) is True


def test_examples_from_the_rule_files() -> None:
    row: dict[str, object] = {
        "years_loss_free": 5,
        "p_churn": 0.3,
        "segment": "vip",
        "margin": 400.0,
        "uplift": 0.1,
        "clv": 1000,
        "cost": 20,
        "intent": "cancel_request",
        "satisfaction": None,
        "proposed_premium": 500,
        "new_business_premium": 450.0,
        "premium": 800,
    }
    schema = dict.fromkeys(row, "number") | {"segment": "string", "intent": "string"}
    cases: list[tuple[str, ExpressionKind, object]] = [
        (
            "years_loss_free >= 3 and p_churn > 0.2 and segment in ['vip', 'affiliated']"
            " and margin > 300",
            "condition",
            True,
        ),
        ("uplift * clv - cost", "number", 80.0),
        ("intent == 'cancel_request'", "condition", True),
        ("coalesce(satisfaction, 5) < 4", "condition", False),
        ("min(proposed_premium, new_business_premium)", "number", 450.0),
        ("0.1 * premium if segment == 'vip' else 0.05 * premium", "number", 80.0),
    ]
    for text, kind, expected in cases:
        compiled = compile_expression(text, schema, kind)
        assert compiled.evaluate(row) == expected, text
        assert compiled.evaluate_frame(pd.DataFrame([row]))[0] == expected, text
