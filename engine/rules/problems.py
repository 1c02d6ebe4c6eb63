"""Every problem found in a rule file, with its place, and the one error that carries them.

A business owner fixing a rule file wants every problem at once, each pointing at its line
and column, rather than one per run. Loading therefore collects ``Problem`` values and raises
one ``RuleSetError`` at the end of the stage that found them::

    rules/retention.yaml: 2 problems
    rules/retention.yaml:41:9: actions[3]: unknown key 'eligibilty'; did you mean 'eligibility'?
    rules/retention.yaml:57:18: unknown field 'p_chrn'; did you mean 'p_churn'?
        p_chrn > 0.2
        ^^^^^^
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.errors import RuleError


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a rule file; ``line`` and ``column`` are 1-based (0: unknown)."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        if self.line <= 0:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class RuleSetError(RuleError):
    """A rule file or case file that cannot be loaded; ``problems`` lists each problem."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        if len(self.problems) == 1:
            message = str(self.problems[0])
        else:
            file = self.problems[0].file if self.problems else "<rules>"
            lines = [f"{file}: {len(self.problems)} problems", *map(str, self.problems)]
            message = "\n".join(lines)
        super().__init__(message)
