"""`retention rules check | test | simulate | diff`: validate, test and try out rule sets.

``check`` and ``test`` validate a rule file and run its example cases; ``simulate`` runs a
rule set over a whole customer book (with baselines and, on a synthetic book, the true
money: ``training.simulation``); ``diff`` shows what changes between two rule sets.

Wired into the root command as a group: ``app.add_typer(rules_app)``. Both commands exit
with 0 when all is well and 2 (with every problem on stderr, each with its location) when
not, so CI and pre-commit hooks can gate a rule change on them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from retention.console import console, err_console
from retention.errors import EXIT_USER_ERROR, exit_on_error

if TYPE_CHECKING:
    import pandas as pd

    from engine.rules import RuleSet
    from engine.scoring.bundle import ModelBundle
    from training.simulation import SimulationOptions

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


DataOption = Annotated[Path, typer.Option("--data", "-d", help="Customer book (.parquet/.csv).")]
ModelOption = Annotated[
    str, typer.Option("--model", "-m", help="Bundle: alias, version, run id or path.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object, nothing else.")]
ChannelOption = Annotated[str, typer.Option(help="Channel of the campaign.")]
EventOption = Annotated[str, typer.Option(help="Event of the campaign (empty: none).")]
NowOption = Annotated[
    datetime | None, typer.Option(help="Decision time (default: now, UTC); validity dates use it.")
]


@contextmanager
def _step() -> Iterator[Any]:
    """A status line on stderr for the long steps, each printed with the time it took
    (stderr, so stdout stays clean for --json)."""
    started: list[tuple[str, float]] = []

    def done() -> None:
        if started:
            message, since = started.pop()
            err_console.print(f"  [dim]{message}: {time.perf_counter() - since:.1f} s[/dim]")

    with err_console.status("starting…") as status:

        def say(message: str) -> None:
            done()
            started.append((message, time.perf_counter()))
            status.update(f"{message}…")

        yield say
        done()


def _load(
    rules_paths: list[Path], data: Path, model: str, say: Any
) -> tuple[list[RuleSet], ModelBundle, pd.DataFrame]:
    from engine.rules import load_rule_set
    from engine.scoring.registry import load_bundle
    from training.simulation.book import check_book, read_book, score_book

    rule_sets = [load_rule_set(path) for path in rules_paths]
    say(f"reading {data}")
    book = read_book(data)
    say(f"loading model {model}")
    bundle = load_bundle(model)
    for rules in rule_sets:
        check_book(book, rules, bundle, str(data))
    say(f"scoring {len(book):,} customers")
    return rule_sets, bundle, score_book(book, bundle)


def _options(channel: str, event: str, now: datetime | None, renewals: bool) -> SimulationOptions:
    from training.simulation import SimulationOptions

    options = SimulationOptions(channel=channel or None, event=event or None, renewals=renewals)
    return options if now is None else replace(options, now=now)


def _money(value: float) -> str:
    return f"{value:,.0f}"


@rules_app.command("simulate")
def simulate(
    rules: Annotated[Path, typer.Option("--rules", "-r", help="The rule file.")],
    data: DataOption,
    model: ModelOption = "champion",
    as_json: JsonOption = False,
    plots: Annotated[
        Path | None, typer.Option(help="Write PNG charts (action mix, value, renewals) here.")
    ] = None,
    channel: ChannelOption = "email",
    event: EventOption = "renewal_due",
    now: NowOption = None,
) -> None:
    """Run a rule set over a whole book: action mix, contacts, cost, value, baselines."""
    with exit_on_error():
        from training.simulation import simulate as run

        with _step() as say:
            (rule_set,), bundle, frame = _load([rules], data, model, say)
            result = run(rule_set, frame, bundle, _options(channel, event, now, True), say)
            report = result.report
            if plots is not None:
                from training.simulation.plots import write_plots

                say("drawing charts")
                report["plots"] = {k: str(v) for k, v in write_plots(report, plots).items()}
        if as_json:
            typer.echo(json.dumps(report, indent=2, sort_keys=False))
            return
        _print_simulation(report)


def _engine_against(policies: dict[str, Any]) -> str:
    """One line: the engine's true net value against the baseline and the oracles."""
    engine = policies["engine"]["true_net_value"]
    parts = []
    for name in ("top_decile_discount_10", "oracle", "oracle_within_rules"):
        other = policies.get(name, {}).get("true_net_value")
        if other:  # absent, or zero: no ratio to show
            ratio = engine / other
            parts.append(f"{ratio:.2f}× {name}" if name.startswith("top") else
                         f"{ratio:.1%} of {name}")  # fmt: skip
    return "engine's true net value: " + (", ".join(parts) or "no policy to compare with")


def _print_simulation(report: dict[str, Any]) -> None:
    from rich.table import Table

    truth = report["truth"]
    console.print(
        f"{report['rules']['name']} sha256:{report['rules']['sha256'][:12]} on "
        f"{report['customers']:,} customers"
        + ("" if truth else " (no truth columns: model estimates only)")
    )
    table = Table("policy", "contacts", "cost", "expected net value", title="Policies")
    if truth:
        table.add_column("true net value")
    for name, p in report["policies"].items():
        row = [name, f"{p['contacts']:,}", _money(p["cost"]), _money(p["expected_net_value"])]
        table.add_row(*row, *([_money(p["true_net_value"])] if truth else []))
    console.print(table)
    engine = report["policies"]["engine"]
    if truth:
        console.print(_engine_against(report["policies"]))
    segments = Table("segment", "customers", "contacts", "cost", "expected", "actions",
                     title="Engine by segment")  # fmt: skip
    for name, s in engine["by_segment"].items():
        mix = ", ".join(f"{a} {n:,}" for a, n in s["action_mix"].items() if a != "none")
        segments.add_row(name, f"{s['customers']:,}", f"{s['contacts']:,}", _money(s["cost"]),
                         _money(s["expected_net_value"]), escape(mix))  # fmt: skip
    console.print(segments)
    renewals = report.get("renewals")
    if renewals:
        money = Table("renewal pricing", "customers kept", "premium income", "net value",
                      title=f"Renewals ({renewals['basis']}): {renewals['verdicts']}")  # fmt: skip
        key = "true_net_value" if renewals["basis"] == "truth" else "expected_net_value"
        for name in ("approve_all", "engine"):
            r = renewals[name]
            money.add_row(name, _money(r["customers_kept"]), _money(r["premium_income"]),
                          _money(r[key]))  # fmt: skip
        console.print(money)
    for name, path in report.get("plots", {}).items():
        console.print(f"chart {name}: {escape(path)}")


@rules_app.command("diff")
def diff(
    old: Annotated[Path, typer.Argument(help="The current rule file.")],
    new: Annotated[Path, typer.Argument(help="The changed rule file.")],
    data: DataOption,
    model: ModelOption = "champion",
    as_json: JsonOption = False,
    channel: ChannelOption = "email",
    event: EventOption = "renewal_due",
    now: NowOption = None,
) -> None:
    """How many customers' decisions change between two rule sets, and the money."""
    with exit_on_error():
        from training.simulation import diff_rule_sets

        with _step() as say:
            (before, after), bundle, frame = _load([old, new], data, model, say)
            say("deciding with both rule sets")
            result = diff_rule_sets(before, after, frame, bundle,
                                    _options(channel, event, now, False))  # fmt: skip
        report = result.report
        if as_json:
            typer.echo(json.dumps(report, indent=2))
            return
        from rich.table import Table

        console.print(f"{report['changed']:,} of {report['customers']:,} decisions change")
        table = Table("from", "to", "customers", title="Transitions")
        for t in report["transitions"]:
            table.add_row(escape(t["from"]), escape(t["to"]), f"{t['customers']:,}")
        if report["transitions"]:
            console.print(table)
        money = Table("", "contacts", "cost", "expected net value", title="Money")
        truth = "true_net_value" in report["old"]
        if truth:
            money.add_column("true net value")
        for name in ("old", "new", "difference"):
            r = report[name]
            row = [name, _money(r["contacts"]), _money(r["cost"]), _money(r["expected_net_value"])]
            money.add_row(*row, *([_money(r["true_net_value"])] if truth else []))
        console.print(money)
