"""Where an expression came from, and the error that points back into it.

Every problem found at load (syntax, a refused construct, an unknown name, a type error) is
an ``ExpressionError``, a ``RuleError`` whose message an editor or a terminal can jump to::

    rules/actions.yaml:12:31: unknown field 'p_chrn'; did you mean 'p_churn'?
        years_loss_free >= 3 and p_chrn > 0.2
                                 ^^^^^^
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import RuleError


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where the expression text starts in its file; line and column are 1-based.

    ``column`` is the column of the expression's first character. For a literal block
    scalar (``|``) pass the line and column of its first content line: its later lines keep
    the same indentation in the file, so they are placed at ``line + k`` from the same column.
    """

    file: str = "<expression>"
    line: int = 1
    column: int = 1


@dataclass(frozen=True, slots=True)
class Span:
    """A position inside the expression text: 0-based line index and character columns."""

    line: int
    column: int
    end_column: int | None = None


class ExpressionError(RuleError):
    """An expression cannot be parsed, is not allowed, or does not type-check.

    ``file``, ``line`` and ``column`` locate the problem in the rule file (1-based);
    ``reason`` is the message alone and ``text`` the whole expression.
    """

    def __init__(self, reason: str, *, text: str, origin: SourceLocation, span: Span) -> None:
        lines = text.split("\n")
        index = min(max(span.line, 0), len(lines) - 1)
        source_line = lines[index]
        column = min(max(span.column, 0), len(source_line))
        self.reason = reason
        self.text = text
        self.file = origin.file
        self.line = origin.line + index
        self.column = origin.column + column
        super().__init__(
            f"{self.file}:{self.line}:{self.column}: {reason}\n"
            + _excerpt(source_line, column, span.end_column)
        )


def _excerpt(source_line: str, column: int, end_column: int | None) -> str:
    width = 1 if end_column is None else max(end_column - column, 1)
    # Keep tabs in the padding so the caret lines up under tab-indented text too.
    padding = "".join("\t" if char == "\t" else " " for char in source_line[:column])
    return f"    {source_line}\n    {padding}{'^' * width}"
