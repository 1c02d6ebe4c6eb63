"""Agent script templates: safe placeholders, checked formats, missing values."""

from __future__ import annotations

import math

import pytest

from engine.rules.expression import StringEnum, ValueType
from engine.rules.templates import TemplateError, compile_template

SCHEMA = {
    "pct": ValueType.NUMBER,
    "premium": ValueType.NUMBER,
    "segment": StringEnum.of(["mass", "vip"]),
    "flag": ValueType.BOOL,
}


def test_renders_values_formats_and_braces() -> None:
    template = compile_template("Offer {pct}% off {premium:,.2f} {{now}} to {segment:>5}", SCHEMA)
    text = template.render({"pct": 5, "premium": 1234.5, "segment": "vip"})
    assert text == "Offer 5% off 1,234.50 {now} to   vip"
    assert template.fields == {"pct", "premium", "segment"}


def test_overrides_win_and_missing_values_read_na() -> None:
    template = compile_template("{pct} / {premium:.2f}", SCHEMA)
    assert template.render({"pct": 1}, {"pct": 2, "premium": math.nan}) == "2 / n/a"
    assert template.render({}) == "n/a / n/a"


def test_text_without_placeholders() -> None:
    assert compile_template("", SCHEMA).render({}) == ""
    assert compile_template("Just thanks.", SCHEMA).render({}) == "Just thanks."


@pytest.mark.parametrize(
    ("text", "reason", "offset"),
    [
        ("Offer {pctt}%", "unknown placeholder {pctt}; did you mean 'pct'?", 7),
        ("Offer {}", "empty placeholder {}", 6),
        ("Offer {pct.real}", "must be a plain name", 6),
        ("Offer {pct[0]}", "must be a plain name", 6),
        ("Offer {pct!r}", "conversions (!r, !s) are not allowed", 6),
        ("Offer {premium:{pct}}", "nested placeholders are not allowed", 6),
        ("Offer {segment:.2f}", "format '.2f' does not fit segment (string)", 6),
        ("Offer {pct:d}", "format 'd' does not fit pct (number)", 6),
        ("Offer {pct", "'{' is never closed", 6),
        ("Offer pct}", "single '}'", 9),
    ],
)
def test_refused_templates(text: str, reason: str, offset: int) -> None:
    with pytest.raises(TemplateError) as caught:
        compile_template(text, SCHEMA)
    assert reason in caught.value.reason
    assert caught.value.offset == offset
