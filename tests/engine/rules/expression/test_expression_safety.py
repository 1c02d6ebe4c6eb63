"""Nothing in a rule file can run code: every construct outside the whitelist is refused."""

from __future__ import annotations

import pytest

from engine.errors import RuleError
from engine.rules.expression import (
    MAX_DEPTH,
    MAX_LENGTH,
    ExpressionError,
    FieldType,
    SourceLocation,
    compile_expression,
)
from engine.rules.expression.rowwise import generate_source

SCHEMA: dict[str, FieldType | str] = {
    "x": "number",
    "y": "number",
    "name": "string",
    "flag": "bool",
}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("__import__('os')", "unknown function __import__()"),
        ("__import__('os').system('true')", "attribute access"),
        ("().__class__", "attribute access"),
        ("().__class__.__bases__[0].__subclasses__()", "attribute access"),
        ("open('x')", "unknown function open()"),
        ("eval('1')", "unknown function eval()"),
        ("exec('1')", "unknown function exec()"),
        ("getattr(x, 'y')", "unknown function getattr()"),
        ("globals()", "unknown function globals()"),
        ("x.y", "attribute access (a.b) is not allowed"),
        ("x.real > 1", "attribute access"),
        ("x[0]", "indexing"),
        ("name[1:2] == 'a'", "indexing"),
        ("lambda: 1", "lambda"),
        ("(lambda: 1)()", "lambda"),
        ("[i for i in [1, 2]]", "comprehensions"),
        ("{i for i in [1, 2]}", "comprehensions"),
        ("{i: 1 for i in [1, 2]}", "comprehensions"),
        ("sum(i for i in [1, 2])", "comprehensions"),
        ("f'{x}' == 'a'", "f-strings"),
        ("(y := 1) > 0", "assignment (:=)"),
        ("min(*[1, 2])", "unpacking"),
        ("{'a': 1}", "dictionaries"),
        ("x is None", "'is' is not allowed"),
        ("x is not None", "'is not' is not allowed"),
        ("x % 2 == 0", "%"),
        ("x // 2 == 0", "//"),
        ("flag & flag", "use 'and'"),
        ("flag | flag", "use 'or'"),
        ("~flag", "use 'not'"),
        ("x << 2 > 0", "<<"),
        ("min(x, y, key=abs)", "keyword arguments are not allowed"),
        ("None", "use is_missing(x)"),
        ("x == None", "use is_missing(x)"),
        ("b'x' == name", "literal b'x' is not allowed"),
        ("... == x", "is not allowed"),
        ("1j == x", "is not allowed"),
        ("await x", "await"),
        ("(yield x)", "yield is not allowed"),
        ("import os", "syntax error"),
        ("x = 1", "syntax error"),
        ("x; y", "syntax error"),
        ("__builtins__", "unknown field '__builtins__'"),
        ("x.__class__", "attribute access"),
        ("1e999 > x", "too large"),
        ("10 ** 400 > x", ""),  # allowed: a power that overflows is missing, not a crash
    ],
)
def test_refuses_everything_outside_the_whitelist(text: str, reason: str) -> None:
    if text == "10 ** 400 > x":
        assert compile_expression(text, SCHEMA, "condition").evaluate({"x": 1}) is False
        return
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text, SCHEMA, "condition")
    assert reason in caught.value.reason
    assert isinstance(caught.value, RuleError)


def test_refuses_text_that_is_too_long() -> None:
    text = " + ".join(["x"] * (MAX_LENGTH // 4 + 1))
    with pytest.raises(ExpressionError, match=f"longer than {MAX_LENGTH}"):
        compile_expression(text, SCHEMA, "number")


@pytest.mark.parametrize(
    "text",
    [
        "-" * 300 + "x",
        " + ".join(["x"] * (MAX_DEPTH + 5)),
        "not " * 100 + "flag",
    ],
)
def test_refuses_deep_nesting_without_crashing(text: str) -> None:
    with pytest.raises(ExpressionError, match="nested"):
        compile_expression(text, SCHEMA, "number" if "x" in text else "condition")


def test_refuses_parentheses_past_the_parser_limit() -> None:
    with pytest.raises(ExpressionError, match="syntax error: too many nested parentheses"):
        compile_expression("(" * 250 + "x" + ")" * 250, SCHEMA, "number")


def test_accepts_nesting_up_to_the_bound() -> None:
    text = " + ".join(["x"] * (MAX_DEPTH - 2))
    assert compile_expression(text, SCHEMA, "number").evaluate({"x": 1}) == MAX_DEPTH - 2


def test_generated_code_has_no_builtins_and_no_author_names() -> None:
    compiled = compile_expression(
        "x > 1 and name in ['os', 'sys'] and flag", SCHEMA, "condition", SourceLocation("r.yaml")
    )
    source = generate_source(compiled.tree, condition=True)
    # Field names appear only as string keys; the code reads locals _v0, _v1, ...
    assert "'x'" in source
    assert " x " not in source
    assert "__" not in source
    function = compiled._evaluate
    assert function.__globals__["__builtins__"] == {}


def test_a_field_named_like_a_builtin_is_just_a_field() -> None:
    compiled = compile_expression("open > 1 and abs(open) < 5", {"open": "number"}, "condition")
    assert compiled.evaluate({"open": 2}) is True


def test_pathological_nesting_of_calls_is_an_error_not_a_crash() -> None:
    text = "x"
    for _ in range(30):
        text = "min(" + ", ".join([text] + ["x"] * 10) + ")"
    assert len(text) <= MAX_LENGTH
    with pytest.raises(ExpressionError, match="too complex to compile"):
        compile_expression(text, SCHEMA, "number")
