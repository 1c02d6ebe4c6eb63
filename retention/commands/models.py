"""`retention train / evaluate / promote / score`: the data scientist's model commands."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from retention.console import console
from retention.errors import exit_on_error

DataOption = Annotated[Path, typer.Option("--data", "-d", help="Customer table (.parquet/.csv).")]
ModelOption = Annotated[str, typer.Option(help="Bundle: alias, version, run id or path.")]
ContractOption = Annotated[
    Path | None,
    typer.Option("--contract", "-c", help="Data contract YAML (default: the insurance book)."),
]
HEADLINE = (
    "churn_roc_auc",
    "churn_pr_auc",
    "churn_brier",
    "churn_log_loss",
    "churn_top_decile_lift",
)


def _contract_path(contract: Path | None) -> Path:
    from training.contract import CONTRACTS_DIR

    return contract or CONTRACTS_DIR / "insurance_book.yaml"


def _metrics_table(metrics: dict[str, dict[str, float]], names: list[str]) -> Table:
    table = Table("metric", *metrics)
    for name in names:
        table.add_row(name, *(f"{m.get(name, float('nan')):.5f}" for m in metrics.values()))
    return table


def train(
    data: DataOption,
    contract: ContractOption = None,
    experiment: Annotated[str, typer.Option(help="MLflow experiment name.")] = "retention",
    register: Annotated[
        bool, typer.Option("--register", help="Register the bundle as retention-bundle.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Random seed (splits and models).")] = 7,
    min_action_rows: Annotated[
        int, typer.Option(help="Treated customers an action needs before its uplift is modelled.")
    ] = 1000,
    out: Annotated[
        Path | None, typer.Option(help="Also keep the bundle and report in this directory.")
    ] = None,
) -> None:
    """Train churn, value and uplift models; log them to MLflow; print headline metrics."""
    with exit_on_error():
        from training.contract import load_contract, load_table
        from training.evaluation.report import write_html, write_plots
        from training.pipeline import TrainConfig
        from training.pipeline import train as run_training
        from training.registry import log_training_run, signature_sample

        started = time.perf_counter()
        table = load_table(data, load_contract(_contract_path(contract)))
        console.print(f"loaded {len(table):,} rows from {data} (contract {table.contract.name})")
        with tempfile.TemporaryDirectory() as tmp:
            root = out or Path(tmp)
            with console.status("training…") as status:

                def progress(message: str) -> None:
                    status.update(f"{message}…")
                    console.print(f"  [dim]{time.perf_counter() - started:6.1f}s[/dim] {message}")

                result = run_training(
                    table,
                    root / "bundle",
                    TrainConfig(seed=seed, min_action_rows=min_action_rows),
                    progress,
                )
                progress("writing report")
                metrics = result.evaluation.metrics
                plots = write_plots(result.evaluation, result.bundle, root / "report")
                report = write_html(
                    root / "report" / "report.html", f"Training report ({data.name})",
                    {"model": metrics}, plots, result.notes, result.params,
                )  # fmt: skip
                progress("logging to MLflow" + (" and registering" if register else ""))
                sample = signature_sample(result.bundle, table.frame)
                logged = log_training_run(
                    result.bundle, sample, experiment, result.params, metrics,
                    [*plots.values(), report], register,
                )  # fmt: skip
                # Compiled once here, the slow offline job, so the first `retention score` of
                # this bundle on this machine does not pay for it (~6 s for the demo bundle;
                # the cache is keyed by model text, so the registered copy hits it too).
                progress("compiling the models for batch scoring (cached on this machine)")
                result.bundle.compiled_predictors()
        for note in result.notes:
            console.print(f"[yellow]note:[/yellow] {note}")
        names = [
            *HEADLINE,
            *sorted(k for k in metrics if k.startswith(("qini__", "uplift_slope__"))),
        ]
        console.print(_metrics_table({"held-out": metrics}, names))
        console.print(f"run id: {logged.run_id}")
        console.print(f"model: {logged.model_uri}")
        if logged.version is not None:
            console.print(f"registered: retention-bundle version {logged.version}")
        console.print(f"trained in {time.perf_counter() - started:.1f} s")


def evaluate(
    data: DataOption,
    model: Annotated[
        str, typer.Option(help="Bundle: alias, version, run id or path.")
    ] = "champion",
    against: Annotated[str | None, typer.Option(help="A second bundle to compare.")] = None,
    contract: ContractOption = None,
    report: Annotated[Path | None, typer.Option(help="Write an HTML comparison here.")] = None,
) -> None:
    """Evaluate a bundle on a table, optionally against another one, with the same metrics."""
    with exit_on_error():
        from engine.scoring.registry import load_bundle
        from training.contract import load_contract, load_table
        from training.evaluation.bundle_eval import evaluate_bundle
        from training.evaluation.report import write_html

        table = load_table(data, load_contract(_contract_path(contract)))
        refs = {model: load_bundle(model)}
        if against is not None:
            refs[against] = load_bundle(against)
        metrics = {ref: evaluate_bundle(bundle, table).metrics for ref, bundle in refs.items()}
        # Figures on a model's own training rows flatter it (most of all the uplift
        # calibration): say so rather than let them pass for a held-out comparison.
        notes = [
            f"{ref} was trained on this table: its figures here include its own training "
            "rows; its held-out figures are in its training run"
            for ref, bundle in refs.items()
            if bundle.manifest.data_fingerprint == table.fingerprint
        ]
        for note in notes:
            console.print(f"[yellow]note:[/yellow] {note}")
        names = sorted({k for m in metrics.values() for k in m})
        console.print(_metrics_table(metrics, names))
        if report is not None:
            write_html(report, f"Evaluation on {data.name}", metrics, {}, notes)
            console.print(f"report: {report}")


def promote(
    version: Annotated[str, typer.Argument(help="Registered version of retention-bundle.")],
    alias: Annotated[str, typer.Option(help="Alias to point at it.")] = "champion",
) -> None:
    """Point an alias (default: champion) at a registered bundle version."""
    with exit_on_error():
        from training.registry import promote as set_alias

        set_alias(version, alias)
        console.print(f"retention-bundle@{alias} -> version {version}")


def score(
    data: DataOption,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output table (.parquet/.csv).")],
    model: Annotated[
        str, typer.Option(help="Bundle: alias, version, run id or path.")
    ] = "champion",
) -> None:
    """Batch-score a customer table: p_churn, margin, clv and uplift per action."""
    with exit_on_error():
        from engine.scoring.registry import load_bundle
        from training.scoring import check_columns, read_table, score_table, write_table

        bundle = load_bundle(model)
        frame = read_table(data)
        check_columns(frame, bundle, str(data))
        started = time.perf_counter()
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("scoring", total=len(frame))
            scores = score_table(frame, bundle, lambda n: bar.advance(task, n))
        elapsed = time.perf_counter() - started
        write_table(scores, out)
        console.print(
            f"scored {len(scores):,} customers in {elapsed:.1f} s "
            f"({len(scores) / max(elapsed, 1e-9):,.0f}/s) -> {out}"
        )
