"""`retention quickstart`: from nothing to a running service with one command.

Embedded defaults only (no Redis, no PostgreSQL): in ``--dir`` (default ``./quickstart``)
it generates a small synthetic book, trains and registers a bundle in a local MLflow
store and promotes it to ``champion``, creates a development key, then serves on
loopback after printing a working ``curl``. ``--no-serve`` stops after preparing (and
prints the command that serves). Running it again reuses what is there.
"""

from __future__ import annotations

import os
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from retention.console import console
from retention.errors import exit_on_error

BOOK = "book.parquet"
KEYS = "keys.json"
TOKEN = "dev-key.txt"


@dataclass(frozen=True)
class Prepared:
    directory: Path
    book: Path
    keys_file: Path
    token: str
    tracking_uri: str
    example_customer: str

    def environment(self) -> dict[str, str]:
        """The service's configuration, as environment variables."""
        root = Path(__file__).resolve().parents[2]
        rules = root / "rules" / "retention.yaml"
        return {
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            "RETENTION_FEATURES_FILE": str(self.book),
            "RETENTION_KEYS_FILE": str(self.keys_file),
            "RETENTION_DATABASE_URL": f"sqlite:///{self.directory / 'decisions.db'}",
            "RETENTION_RULES_PATH": str(rules),
            "RETENTION_MODEL_URI": "models:/retention-bundle@champion",
        }


def prepare(directory: Path, customers: int = 20_000, seed: int = 7) -> Prepared:
    """Book, trained and promoted bundle, dev key; each step skipped when already done."""
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    tracking = f"sqlite:///{directory / 'mlflow.db'}"
    from engine.scoring.registry import tracking_env

    with tracking_env(tracking):
        return _prepare(directory, tracking, customers, seed)


def _prepare(directory: Path, tracking: str, customers: int, seed: int) -> Prepared:
    import pandas as pd

    from engine.auth.keys import KeyFile
    from training.synth.book import generate_book
    from training.synth.output import write_book

    book = directory / BOOK
    if not book.is_file():
        with console.status(f"generating {customers:,} customers…"):
            write_book(generate_book(customers, seed), book)
        console.print(f"[green]book[/green] {book} ({customers:,} customers)")
    if not _has_champion():
        _train_and_promote(book, seed)
    keys_file, token_file = directory / KEYS, directory / TOKEN
    if not token_file.is_file():
        keys_file.unlink(missing_ok=True)
        token = KeyFile(keys_file).create("dev", ["decide", "pricing", "outcomes", "admin"])
        token_file.write_text(token + "\n")
        token_file.chmod(0o600)
    token = token_file.read_text().strip()
    first = str(pd.read_parquet(book, columns=["customer_id"])["customer_id"].iloc[0])
    return Prepared(directory, book, keys_file, token, tracking, first)


def _has_champion() -> bool:
    from engine.errors import RetentionError
    from engine.service.models import registry_version

    try:
        registry_version("champion")
    except RetentionError:
        return False
    return True


def _train_and_promote(book: Path, seed: int) -> None:
    from training.contract import CONTRACTS_DIR, load_contract, load_table
    from training.pipeline import TrainConfig, train
    from training.registry import log_training_run, promote, signature_sample

    table = load_table(book, load_contract(CONTRACTS_DIR / "insurance_book.yaml"))
    with tempfile.TemporaryDirectory() as tmp, console.status("training…") as status:
        result = train(table, Path(tmp) / "bundle", TrainConfig(seed=seed), status.update)
        sample = signature_sample(result.bundle, table.frame)
        logged = log_training_run(
            result.bundle, sample, "quickstart", result.params,
            result.evaluation.metrics, [], register=True,
        )  # fmt: skip
    if logged.version is None:  # pragma: no cover - register=True always gives a version
        return
    promote(logged.version, "champion")
    auc = result.evaluation.metrics.get("churn_roc_auc", float("nan"))
    console.print(
        f"[green]model[/green] retention-bundle version {logged.version} is champion "
        f"(held-out ROC-AUC {auc:.3f})"
    )


def curl_example(prepared: Prepared, host: str, port: int) -> str:
    body = (
        f'{{"customer_id": "{prepared.example_customer}", "channel": "call_center", '
        '"context": {"intent": "cancel_request", "event": "renewal_due"}}'
    )
    return (
        f"curl -s -X POST http://{host}:{port}/v1/decisions "
        f"-H 'Authorization: Bearer {prepared.token}' "
        f"-H 'Content-Type: application/json' -d {shlex.quote(body)}"
    )


def quickstart(
    directory: Annotated[
        Path, typer.Option("--dir", help="Working directory for book, models, keys, log.")
    ] = Path("quickstart"),
    customers: Annotated[int, typer.Option("--customers", "-n", help="Book size.")] = 20_000,
    host: Annotated[str, typer.Option(help="Interface to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve in the foreground afterwards.")
    ] = True,
) -> None:
    """Generate a book, train and promote a model, create a dev key, and serve."""
    with exit_on_error():
        prepared = prepare(directory, customers)
        environment = prepared.environment()
        console.print(f"[green]dev key[/green] (all scopes) in {prepared.directory / TOKEN}")
        console.print("\ntry it:\n")
        console.print(curl_example(prepared, host, port), markup=False, highlight=False)
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in environment.items())
        console.print("\nserve it again later with:\n", markup=False)
        console.print(f"{exports} retention serve --port {port}", markup=False, highlight=False)
        if not serve:
            return
        os.environ.update(environment)
        from retention.commands.serve import run_server

        console.print(f"\nserving on http://{host}:{port} (docs: /docs); Ctrl-C stops\n")
        run_server(host, port, workers=1)
