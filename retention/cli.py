"""Root of the `retention` command line.

Commands live one per module in ``retention.commands``; each imports its heavy dependencies
when it runs, so `retention --help` stays fast and nothing happens at import time.
"""

from __future__ import annotations

import typer

from retention.commands.features import features_app
from retention.commands.keys import keys_app
from retention.commands.models import evaluate, promote, score, train
from retention.commands.outcomes import outcomes_app
from retention.commands.quickstart import quickstart
from retention.commands.rules import rules_app
from retention.commands.serve import serve
from retention.commands.synth import synth

app = typer.Typer(
    name="retention",
    help="Retention decision engine: synthetic data, training, rules and the decision service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main() -> None:
    """Retention decision engine: synthetic data, training, rules and the decision service."""


app.command()(synth)
for command in (train, evaluate, promote, score, serve, quickstart):
    app.command()(command)
app.add_typer(keys_app, name="keys")
app.add_typer(features_app, name="features")
app.add_typer(rules_app, name="rules")
app.add_typer(outcomes_app, name="outcomes")
