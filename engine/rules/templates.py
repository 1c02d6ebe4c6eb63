"""Agent script templates: ``"Offer {discount_pct}% off {proposed_premium:.2f}"``, checked at load.

Only plain placeholders are accepted: ``{name}`` or ``{name:spec}`` where ``name`` is a
field, score, context value or parameter the action's expressions may use, and ``spec`` is a
format spec that works for a value of that name's type (``.2f`` for numbers, ``>10`` for
text). ``{{`` and ``}}`` are literal braces. Attribute access, indexing, conversions
(``!r``), positional and nested placeholders are refused, so a template cannot reach into
Python objects as ``str.format`` would let it. A missing value renders as ``n/a``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from engine.errors import RuleError
from engine.rules.expression import FieldType, StringEnum, ValueType

from .yaml_source import did_you_mean

MISSING_TEXT = "n/a"
_NONE: Mapping[str, object] = {}
_SAMPLES: dict[ValueType, object] = {
    ValueType.NUMBER: 1234.5,
    ValueType.BOOL: True,
    ValueType.STRING: "text",
}


class TemplateError(RuleError):
    """A script template that cannot be checked; ``offset`` is where in the text."""

    def __init__(self, reason: str, offset: int) -> None:
        self.reason = reason
        self.offset = offset
        super().__init__(f"{reason} (at character {offset + 1} of the script)")


@dataclass(frozen=True, slots=True)
class ScriptTemplate:
    """A checked template; ``parts`` are (literal text, field name or "", format spec)."""

    text: str
    parts: tuple[tuple[str, str, str], ...]

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(name for _, name, _ in self.parts if name)

    def render(self, values: Mapping[str, object], overrides: Mapping[str, object] = _NONE) -> str:
        """The script with each placeholder filled from ``overrides``, else ``values``."""
        pieces: list[str] = []
        for literal, name, spec in self.parts:
            pieces.append(literal)
            if name:
                value = overrides[name] if name in overrides else values.get(name)
                pieces.append(_format(value, spec))
        return "".join(pieces)


def compile_template(text: str, schema: Mapping[str, FieldType]) -> ScriptTemplate:
    parts: list[tuple[str, str, str]] = []
    literal: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char in "{}" and text[position + 1 : position + 2] == char:
            literal.append(char)
            position += 2
            continue
        if char == "}":
            raise TemplateError("single '}' in the script: write '}}' for a brace", position)
        if char != "{":
            literal.append(char)
            position += 1
            continue
        end = text.find("}", position)
        if end < 0:
            raise TemplateError("'{' is never closed: write '{{' for a brace", position)
        body = text[position + 1 : end]
        name, spec = _placeholder(body, schema, position)
        parts.append(("".join(literal), name, spec))
        literal = []
        position = end + 1
    if literal or not parts:
        parts.append(("".join(literal), "", ""))
    return ScriptTemplate(text, tuple(parts))


def _placeholder(body: str, schema: Mapping[str, FieldType], offset: int) -> tuple[str, str]:
    name, _, spec = body.partition(":")
    if "{" in body:
        raise TemplateError("nested placeholders are not allowed", offset)
    if "!" in name:
        raise TemplateError("conversions (!r, !s) are not allowed in a script", offset)
    if not name:
        raise TemplateError("empty placeholder {}: name a field, e.g. {tenure_years}", offset)
    if not name.isidentifier():
        raise TemplateError(
            f"placeholder {{{name}}} must be a plain name (no attribute access or indexing)",
            offset,
        )
    declared = schema.get(name)
    if declared is None:
        hint = did_you_mean(name, schema) or ""
        raise TemplateError(f"unknown placeholder {{{name}}}{hint}", offset + 1)
    kind = ValueType.STRING if isinstance(declared, StringEnum) else declared
    try:
        format(_SAMPLES[kind], spec)
    except (ValueError, TypeError) as error:
        raise TemplateError(
            f"format '{spec}' does not fit {name} ({kind.value}): {error}", offset
        ) from None
    return name, spec


def _format(value: object, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or _is_na(value):
        return MISSING_TEXT
    try:
        return format(value, spec)
    except (ValueError, TypeError):
        return str(value)


def _is_na(value: object) -> bool:
    try:
        return bool(value != value)  # NaN of numpy types and pandas.NA (whose != is NA)
    except TypeError:
        return True
