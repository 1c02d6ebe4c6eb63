"""``simulate``: score a book, run a rule set and the baselines over it, value them all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from engine.decision import Context, allocate_budgets, budget_shadow_prices
from engine.rules import RuleSet
from engine.scoring.bundle import ModelBundle
from training.simulation.book import has_truth, segments, value_model
from training.simulation.matrices import ActionMatrices, action_matrices
from training.simulation.policies import Policy, all_policies
from training.simulation.renewals import renewal_summary
from training.simulation.summary import policy_summary

Step = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class SimulationOptions:
    """The context of the campaign: an outbound renewal mailing unless told otherwise."""

    channel: str | None = "email"
    event: str | None = "renewal_due"
    intent: str | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))
    renewals: bool = True

    def context(self) -> Context:
        return Context(now=self.now, channel=self.channel, intent=self.intent, event=self.event)


@dataclass(frozen=True, slots=True)
class Simulation:
    rules: RuleSet
    matrices: ActionMatrices
    policies: tuple[Policy, ...]
    report: dict[str, Any]
    """JSON-ready: ``rules``, ``customers``, ``truth``, ``context``, ``policies``,
    ``renewals`` (when asked)."""

    def policy(self, name: str) -> Policy:
        return next(p for p in self.policies if p.name == name)


def simulate(
    rules: RuleSet,
    frame: pd.DataFrame,
    bundle: ModelBundle,
    options: SimulationOptions | None = None,
    step: Step = lambda _: None,
) -> Simulation:
    """Run over a scored frame (``book.score_book``); ``step`` hears of each long step."""
    options = options or SimulationOptions()
    context = options.context()
    value = value_model(bundle)
    step("deciding (vectorised) and valuing every action")
    matrices = action_matrices(rules, frame, context, value)
    step("allocating budgets for the engine and the baselines")
    allocation = allocate_budgets(matrices.batch)
    prices = allocation.shadow_prices or budget_shadow_prices(matrices.batch)
    policies = tuple(all_policies(matrices, allocation))
    step("summarising the policies")
    labels = segments(frame)
    report: dict[str, Any] = {
        "rules": {"name": rules.name, "sha256": rules.hash, "file": rules.file},
        "customers": len(frame),
        "truth": has_truth(frame),
        "context": {
            "channel": options.channel,
            "event": options.event,
            "intent": options.intent,
            "now": options.now.isoformat(),
        },
        "budgets": {name: budget.amount for name, budget in rules.budgets.items()},
        "allocation": rules.allocation,
        "shadow_prices": prices,
        "policies": {p.name: policy_summary(p, labels) for p in policies},
    }
    if options.renewals:
        step("renewals: the book at current terms")
        report["renewals"] = renewal_summary(rules, frame, bundle, value, context, step)
    return Simulation(rules, matrices, policies, report)
