"""Problems found in a table, and how they become one ``DataContractError``.

Row numbers in every message are **1-based data rows**: the first row of data is row 1 and a
header line is not counted (for an in-memory frame: position in the frame + 1, whatever its
index). For a CSV file the message also gives the file line, ``row + 1`` -- exact as long as the
file has no blank lines (they are skipped) and no quoted field spans several lines.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.errors import DataContractError

MAX_EXAMPLES = 5
"""How many example rows (and their values) a message shows for one problem."""

_MAX_SHOWN_CHARS = 40


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one column: what, how many rows, and the first few of them."""

    column: str | None
    what: str
    count: int = 0
    rows: tuple[int, ...] = ()
    values: tuple[str, ...] = ()
    prefixed: bool = True
    """Start the line with ``column 'x':`` (off when ``what`` names the columns itself)."""

    def describe(self, *, header_lines: int | None) -> str:
        """One line for the error message; ``header_lines`` set means show CSV file lines."""
        named = self.column is not None and self.prefixed
        where = f"column {self.column!r}: " if named else ""
        if not self.rows:
            return where + self.what
        noun = "row" if self.count == 1 else "rows"
        first = "" if self.count <= len(self.rows) else f", the first {len(self.rows)}"
        text = f"{where}{self.count:,} {noun} with {self.what}{first}: {noun} {_join(self.rows)}"
        if header_lines is not None:
            text += f" (file lines {_join(row + header_lines for row in self.rows)})"
        if self.values:
            text += f"; values {', '.join(self.values)}"
        return text


def rows_problem(
    column: str,
    what: str,
    mask: npt.NDArray[np.bool_],
    shown: pd.Series | None = None,
) -> Problem | None:
    """A problem for the rows where ``mask`` is true, or ``None`` when there are none.

    ``shown`` holds the original cells; the first few offending ones are quoted in the message.
    """
    positions = np.flatnonzero(mask)
    if positions.size == 0:
        return None
    first = positions[:MAX_EXAMPLES]
    values: tuple[str, ...] = ()
    if shown is not None:
        values = tuple(_show(shown.iloc[int(p)]) for p in first)
    return Problem(
        column=column,
        what=what,
        count=int(positions.size),
        rows=tuple(int(p) + 1 for p in first),
        values=values,
    )


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or an empty string."""
    pool = list(candidates)
    for candidate in pool:
        if candidate.lower() == name.lower():
            return f" (did you mean {candidate!r}?)"
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def contract_error(
    problems: Sequence[Problem], *, source: str, contract: str, header_lines: int | None
) -> DataContractError:
    """All ``problems`` as one error: one line each; ``column``/``rows`` are the first one's."""
    count = len(problems)
    lines = [
        f"{source} does not satisfy the data contract {contract!r}: "
        f"{count} problem{'s' if count != 1 else ''} "
        "(rows are 1-based data rows, header not counted)"
    ]
    lines.extend(f"  - {p.describe(header_lines=header_lines)}" for p in problems)
    first = problems[0]
    return DataContractError("\n".join(lines), column=first.column, rows=list(first.rows))


def _join(numbers: Iterable[int]) -> str:
    return ", ".join(str(n) for n in numbers)


def _show(value: object) -> str:
    text = repr(value.item() if isinstance(value, np.generic) else value)
    if len(text) > _MAX_SHOWN_CHARS:
        text = text[: _MAX_SHOWN_CHARS - 3] + "..."
    return text
