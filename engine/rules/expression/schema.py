"""The field types an expression is checked against, as the caller declares them."""

from __future__ import annotations

import enum
import keyword
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from engine.errors import RuleError


class ValueType(enum.Enum):
    """The three value types of the language; a string enum is a constrained ``STRING``."""

    NUMBER = "number"
    BOOL = "bool"
    STRING = "string"


@dataclass(frozen=True, slots=True)
class StringEnum:
    """A string field that takes one of a known set of values (e.g. a segment or a channel).

    Comparing it with a literal outside the set is a load-time error, so a typo such as
    ``segment == 'vipp'`` cannot silently make a rule never fire.
    """

    values: frozenset[str]

    @classmethod
    def of(cls, values: Iterable[str]) -> StringEnum:
        return cls(frozenset(values))


BOOL_VALUES: dict[object, bool] = {True: True, False: False}
"""How a true/false field's values are read, row by row and per column alike: by hash and
equality, so True, 1, 1.0 and numpy.True_ are True, False, 0, 0.0 are False, and anything
else (None, NaN, pandas.NA, "yes") is missing."""

FieldType = ValueType | StringEnum
"""What a schema maps a field name to; the strings "number", "bool", "string" are accepted too."""


def normalise_schema(schema: Mapping[str, FieldType | str]) -> dict[str, FieldType]:
    """Validate the caller's schema once, so the checker can trust it.

    A malformed schema is the caller's bug rather than a business owner's, but it is still a
    rule set that cannot be compiled, hence ``RuleError``.
    """
    result: dict[str, FieldType] = {}
    for name, declared in schema.items():
        if not name.isidentifier() or keyword.iskeyword(name):
            raise RuleError(f"schema field {name!r} is not a valid identifier")
        if isinstance(declared, ValueType | StringEnum):
            field_type: FieldType = declared
        else:
            try:
                field_type = ValueType(declared)
            except ValueError:
                allowed = ", ".join(t.value for t in ValueType)
                raise RuleError(
                    f"schema field {name!r} has unknown type {declared!r} (expected {allowed}"
                    " or a StringEnum)"
                ) from None
        if isinstance(field_type, StringEnum) and not all(
            isinstance(value, str) for value in field_type.values
        ):
            raise RuleError(f"schema field {name!r}: enum values must be strings")
        result[name] = field_type
    return result
