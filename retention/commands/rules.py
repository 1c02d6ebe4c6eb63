"""`retention rules check | test`: validate a rule set, and run its example cases.

Wired into the root command as a group: ``app.add_typer(rules_app)``. Both commands exit
with 0 when all is well and 2 (with every problem on stderr, each with its location) when
not, so CI and pre-commit hooks can gate a rule change on them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from retention.console import console
from retention.errors import EXIT_USER_ERROR, exit_on_error

rules_app = typer.Typer(
    name="rules",
    help="Check and test business rule sets (YAML) before they go live.",
    no_args_is_help=True,
)

RulePath = Annotated[Path, typer.Argument(help="The rule file, e.g. rules/retention.yaml.")]


@rules_app.command("check")
def check(path: RulePath) -> None:
    """Validate a rule file: schema, names, references and every expression."""
    with exit_on_error():
        from engine.rules import load_rule_set

        rules = load_rule_set(path)
        console.print(f"[green]ok[/green] {escape(str(path))}: {escape(rules.summary())}")


@rules_app.command("test")
def run_case_tests(
    path: RulePath,
    cases: Annotated[
        Path | None,
        typer.Option(
            "--cases",
            "-c",
            help="A case file or a directory of *.yaml case files (default: cases/ next to PATH).",
        ),
    ] = None,
) -> None:
    """Run the example cases against a rule file; print what differs for each failure."""
    with exit_on_error():
        from engine.errors import ConfigError
        from engine.rules import load_rule_set
        from engine.rules.cases import load_case_files, run_cases

        rules = load_rule_set(path)
        where = cases if cases is not None else path.parent / "cases"
        files = sorted(where.glob("*.yaml")) if where.is_dir() else [where]
        if not files:
            raise ConfigError(f"{where}: no case files (*.yaml)")
        results = run_cases(rules, load_case_files(files))
        for result in results:
            if result.passed:
                console.print(f"[green]PASS[/green] {escape(result.name)}")
                continue
            console.print(f"[red]FAIL[/red] {escape(result.name)} ({escape(result.where)})")
            for failure in result.failures:
                console.print(f"    {escape(failure)}")
        failed = sum(not result.passed for result in results)
        summary = f"{len(results)} cases, {len(results) - failed} passed, {failed} failed"
        console.print(f"{summary} (rules sha256:{rules.short_hash})")
    if failed:
        raise typer.Exit(EXIT_USER_ERROR)
