"""Every load-time problem is an ExpressionError that points at file:line:column."""

from __future__ import annotations

import pytest

from engine.errors import RuleError
from engine.rules.expression import (
    ExpressionError,
    ExpressionKind,
    FieldType,
    SourceLocation,
    StringEnum,
    compile_expression,
)

SCHEMA: dict[str, FieldType | str] = {
    "years_loss_free": "number",
    "p_churn": "number",
    "margin": "number",
    "premium": "number",
    "segment": StringEnum.of(["vip", "affiliated", "standard"]),
    "intent": "string",
    "flag": "bool",
}
ORIGIN = SourceLocation("rules/actions.yaml", 12, 20)


def _error(text: str, kind: ExpressionKind = "condition") -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text, SCHEMA, kind, ORIGIN)
    return caught.value


def test_unknown_field_message_points_at_it_with_a_suggestion() -> None:
    error = _error("years_loss_free >= 3 and p_chrn > 0.2")
    assert str(error) == (
        "rules/actions.yaml:12:45: unknown field 'p_chrn'; did you mean 'p_churn'?\n"
        "    years_loss_free >= 3 and p_chrn > 0.2\n"
        "                             ^^^^^^"
    )
    assert (error.file, error.line, error.column) == ("rules/actions.yaml", 12, 45)
    assert error.text == "years_loss_free >= 3 and p_chrn > 0.2"
    assert error.reason == "unknown field 'p_chrn'; did you mean 'p_churn'?"
    assert isinstance(error, RuleError)
    assert error.status_code == 422


def test_unknown_field_suggestion_ignores_case() -> None:
    assert "did you mean 'p_churn'?" in _error("P_Churn > 1").reason


def test_unknown_field_without_a_close_match_lists_the_known_fields() -> None:
    reason = _error("zzz > 1").reason
    assert reason.startswith("unknown field 'zzz' (known fields: flag, intent, margin")


def test_unknown_function_suggestion() -> None:
    error = _error("mn(margin, premium) > 1")
    assert error.reason == "unknown function mn(); did you mean min()?"
    assert error.column == 20


@pytest.mark.parametrize(
    ("text", "column", "reason"),
    [
        ("margin >= 3 and", 15, "syntax error: invalid syntax"),
        ("margin ==== 3", 9, "syntax error: invalid syntax"),
        ("(margin > 3 and flag", 0, "syntax error: '(' was never closed"),
        ("margin > 3 flag", 11, "syntax error"),
        ("segment == 'vip", 11, "syntax error: unterminated string literal"),
        ("", 0, "the expression is empty"),
        ("   ", 0, "the expression is empty"),
    ],
)
def test_syntax_errors(text: str, column: int, reason: str) -> None:
    error = _error(text)
    assert error.reason.startswith(reason)
    assert (error.line, error.column) == (12, 20 + column)
    assert str(error).startswith(f"rules/actions.yaml:12:{20 + column}: {reason}")


@pytest.mark.parametrize(
    ("text", "kind", "reason"),
    [
        ("segment == 3", "condition", "cannot compare segment (a string) with 3 (a number)"),
        ("3 < intent", "condition", "cannot compare 3 (a number) with intent (a string)"),
        ("flag == 1", "condition", "cannot compare flag (true/false) with 1 (a number)"),
        ("segment + 1 > 2", "condition", "'+' needs numbers, but segment is a string"),
        ("intent * 2", "number", "'*' needs numbers, but intent is a string"),
        ("-intent", "number", "unary '-' needs a number, but intent is a string"),
        ("margin and flag", "condition", "'and'/'or' combine conditions, but margin is a number"),
        ("flag or intent", "condition", "combine conditions, but intent is a string"),
        ("not margin", "condition", "'not' needs a condition, but margin is a number"),
        (
            "margin * 2",
            "condition",
            "a condition must be true/false, but this expression is a number",
        ),
        ("margin > 2", "number", "a formula must be a number, but this expression is true/false"),
        ("intent", "number", "a formula must be a number, but this expression is a string"),
        ("segment in [1, 2]", "condition", "segment is a string, but the list holds numbers"),
        ("margin in ['a']", "condition", "margin is a number, but the list holds strings"),
        ("flag in [True]", "condition", "a list may not hold true/false"),
        ("segment in ['vip', 1]", "condition", "a list must hold values of one type"),
        ("margin in [premium]", "condition", "a list may hold only literal numbers or strings"),
        ("margin in []", "condition", "the list is empty"),
        ("margin in premium", "condition", "'in' needs a list of values"),
        ("[1, 2] == margin", "condition", "a list can only appear after 'in' or 'not in'"),
        ("margin == [1]", "condition", "a list can only appear after 'in', not '=='"),
        ("intent < 'b'", "condition", "'<' compares numbers, but intent is a string"),
        ("flag >= True", "condition", "'>=' compares numbers, but flag is true/false"),
        ("1 if flag else 'a'", "number", "both branches of 'if ... else' must have one type"),
        ("1 if margin else 2", "number", "the condition after 'if' must be true/false"),
        ("min(margin)", "number", "min() needs at least 2 arguments, got 1"),
        ("abs(margin, premium)", "number", "abs() needs 1 argument, got 2"),
        ("clip(margin, 1)", "number", "clip(x, low, high) needs 3 arguments, got 2"),
        ("round(margin, 1.5)", "number", "round()'s digits must be a whole-number literal"),
        ("round(margin, premium)", "number", "round()'s digits must be a whole-number literal"),
        ("round(margin, 99)", "number", "from -15 to 15"),
        ("round(margin, 1, 2)", "number", "round() needs 1 or 2 arguments, got 3"),
        ("coalesce(margin, 'a')", "number", "coalesce() arguments must have one type"),
        ("coalesce(margin)", "number", "coalesce() needs at least 2 arguments, got 1"),
        ("log(intent)", "number", "log() needs numbers, but intent is a string"),
        ("max(margin, flag)", "number", "max() needs numbers, but flag is true/false"),
        ("is_missing(margin, premium)", "condition", "is_missing() needs 1 argument, got 2"),
        ("is_missing([1])", "condition", "is_missing() needs a value, not a list"),
    ],
)
def test_type_errors(text: str, kind: ExpressionKind, reason: str) -> None:
    assert reason in _error(text, kind).reason


def test_type_error_points_at_the_offending_operand() -> None:
    error = _error("margin > 3 and segment == 3")
    assert error.column == 20 + len("margin > 3 and segment == ")
    assert str(error).endswith("    margin > 3 and segment == 3\n" + " " * 30 + "^")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("segment == 'vipp'", "'vipp' is not a value segment can take"),
        ("'vipp' != segment", "did you mean 'vip'?"),
        ("segment in ['vip', 'afiliated']", "did you mean 'affiliated'?"),
        ("coalesce(segment, 'vip') == 'gold'", "'gold' is not a value"),
        ("(segment if flag else 'vip') == 'gold'", "'gold' is not a value"),
    ],
)
def test_string_enum_compared_with_a_value_it_cannot_take(text: str, reason: str) -> None:
    error = _error(text)
    assert reason in error.reason
    assert "('affiliated', 'standard', 'vip')" in error.reason


def test_string_enum_accepts_its_values_and_other_string_expressions() -> None:
    compiled = compile_expression(
        "segment in ['vip', 'affiliated'] or segment == intent or 'a' == 'b'", SCHEMA, "condition"
    )
    assert compiled.evaluate({"segment": "vip"}) is True


def test_multi_line_block_scalar_maps_lines_and_columns() -> None:
    # rules.yaml:
    #  10 |   when: |
    #  11 |       years_loss_free >= 3 and
    #  12 |         p_chrn > 0.2
    text = "years_loss_free >= 3 and\n  p_chrn > 0.2\n"
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text, SCHEMA, "condition", SourceLocation("rules.yaml", 11, 7))
    error = caught.value
    assert (error.line, error.column) == (12, 9)
    assert str(error) == (
        "rules.yaml:12:9: unknown field 'p_chrn'; did you mean 'p_churn'?\n"
        "      p_chrn > 0.2\n"
        "      ^^^^^^"
    )


def test_multi_line_syntax_error_is_on_its_own_line() -> None:
    text = "margin > 3 and\nflag and\n  (premium > 2"
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text, SCHEMA, "condition", SourceLocation("r.yaml", 5, 3))
    assert "'(' was never closed" in caught.value.reason
    assert (caught.value.line, caught.value.column) == (7, 5)


@pytest.mark.parametrize(
    ("text", "line", "column", "reason"),
    [
        ("margin > 3)\n and flag", 1, 10, "unmatched ')'"),
        ("margin in [1, 2)\n and flag", 1, 15, "')' does not match its opening bracket"),
        ("margin > 3 and\n flag and", 2, 9, "invalid syntax"),
        ("margin > 3 and\n segment == 'a)'\n and (flag", 3, 5, "'(' was never closed"),
    ],
)
def test_multi_line_syntax_error_locations(text: str, line: int, column: int, reason: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text, SCHEMA, "condition", SourceLocation("r.yaml", 1, 1))
    assert reason in caught.value.reason
    assert (caught.value.line, caught.value.column - 1) == (line, column)


def test_multi_line_expression_evaluates() -> None:
    text = "years_loss_free >= 3\n  and p_churn > 0.2\n  and segment in ['vip']\n"
    compiled = compile_expression(text, SCHEMA, "condition")
    assert compiled.evaluate({"years_loss_free": 4, "p_churn": 0.5, "segment": "vip"}) is True


def test_columns_count_characters_not_bytes() -> None:
    error = _error("intent == 'résiliation' and p_chrn > 1")
    assert error.column == 20 + len("intent == 'résiliation' and ")


def test_leading_whitespace_keeps_columns() -> None:
    assert _error("   p_chrn > 1").column == 23


def test_caret_follows_tabs() -> None:
    error = _error("margin > 1 and\n\tp_chrn > 1")
    assert str(error).endswith("    \tp_chrn > 1\n    \t^^^^^^")


def test_default_origin() -> None:
    with pytest.raises(ExpressionError, match=r"^<expression>:1:1: unknown field 'nope'"):
        compile_expression("nope", SCHEMA, "condition")


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"x": "integer"}, "schema field 'x' has unknown type 'integer'"),
        ({"not valid": "number"}, "schema field 'not valid' is not a valid identifier"),
        ({"class": "number"}, "is not a valid identifier"),
    ],
)
def test_bad_schema(schema: dict[str, str], message: str) -> None:
    with pytest.raises(RuleError, match=message):
        compile_expression("1 > 0", schema, "condition")
