"""``diff_rule_sets``: what changes, customer by customer, when one rule set replaces another."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.rules import RuleSet
from engine.scoring.bundle import ModelBundle
from training.simulation.book import value_model
from training.simulation.matrices import action_matrices
from training.simulation.policies import ENGINE, Policy, chargeable_cost, engine
from training.simulation.run import SimulationOptions

NONE = "none"


@dataclass(frozen=True, slots=True)
class RuleSetDiff:
    old: npt.NDArray[np.object_]
    """Per customer, the action the old rule set gives (``none``: nothing)."""
    new: npt.NDArray[np.object_]
    report: dict[str, Any]

    @property
    def changed(self) -> int:
        return int(self.report["changed"])


def diff_rule_sets(
    old: RuleSet,
    new: RuleSet,
    frame: pd.DataFrame,
    bundle: ModelBundle,
    options: SimulationOptions | None = None,
) -> RuleSetDiff:
    """Decide with both rule sets on the same scored frame (budgets allocated by each)."""
    options = options or SimulationOptions(renewals=False)
    value = value_model(bundle)
    actions, money = [], []
    for rules in (old, new):
        matrices = action_matrices(rules, frame, options.context(), value)
        policy = Policy(ENGINE, engine(matrices), matrices)
        ids = np.asarray([*matrices.ids, NONE], dtype=object)
        actions.append(ids[policy.chosen])  # -1 picks the trailing "none"
        money.append(_money(policy))
    changed = actions[0] != actions[1]
    counts = Counter(zip(actions[0][changed].tolist(), actions[1][changed].tolist(), strict=True))
    transitions: list[dict[str, Any]] = [
        {"from": str(before), "to": str(after), "customers": count}
        for (before, after), count in sorted(counts.items(), key=lambda t: (-t[1], t[0]))
    ]
    report: dict[str, Any] = {
        "customers": len(frame),
        "changed": int(changed.sum()),
        "transitions": transitions,
        "old": {"rules": old.name, "sha256": old.hash, **money[0]},
        "new": {"rules": new.name, "sha256": new.hash, **money[1]},
        "difference": {
            name: money[1][name] - money[0][name] for name in money[0] if name in money[1]
        },
    }
    return RuleSetDiff(actions[0], actions[1], report)


def _money(policy: Policy) -> dict[str, float]:
    m = policy.matrices
    out = {
        "contacts": float((policy.chosen >= 0).sum()),
        "cost": float(policy.per_row(chargeable_cost(m)).sum()),
        "expected_net_value": float(policy.per_row(m.expected_value).sum()),
    }
    if m.truth is not None:
        out["true_net_value"] = float(policy.per_row(m.truth.net_value).sum())
    return out
