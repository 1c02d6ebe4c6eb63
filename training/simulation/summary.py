"""A policy's figures: contacts, cost, expected and true value, in total, by action and by
segment. ``by_action`` puts the model's view (``expected_*``) next to the truth on the
customers the policy picked: how far off the model is per action, where it matters."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from training.simulation.policies import Policy, chargeable_cost

Labels = npt.NDArray[np.object_]


def policy_summary(policy: Policy, segments: Labels) -> dict[str, Any]:
    """JSON-ready figures of one policy (``true_*`` only when the book carries truth)."""
    m = policy.matrices
    contacted = policy.chosen >= 0
    columns: dict[str, npt.NDArray[np.float64]] = {
        "cost": policy.per_row(chargeable_cost(m)),
        "expected_net_value": policy.per_row(m.expected_value),
        "expected_retained": policy.per_row(m.uplift),
    }
    if m.truth is not None:
        columns["true_cost"] = policy.per_row(m.truth.cost)
        columns["true_net_value"] = policy.per_row(m.truth.net_value)
        columns["true_retained"] = policy.per_row(m.truth.reduction)
    out: dict[str, Any] = {"contacts": int(contacted.sum())}
    out.update({name: float(values.sum()) for name, values in columns.items()})
    out["spent"] = policy.spent()
    out["action_mix"] = action_mix(policy, np.ones(len(contacted), dtype=np.bool_))
    out["by_action"] = by_action(policy, columns)
    by_segment = {}
    for segment in sorted(set(segments.tolist())):
        rows = segments == segment
        part: dict[str, Any] = {
            "customers": int(rows.sum()),
            "contacts": int(contacted[rows].sum()),
        }
        part.update({name: float(values[rows].sum()) for name, values in columns.items()})
        part["action_mix"] = action_mix(policy, rows)
        by_segment[segment] = part
    out["by_segment"] = by_segment
    return out


def action_mix(policy: Policy, rows: npt.NDArray[np.bool_]) -> dict[str, int]:
    """Customers per action given (``none`` for nobody contacted) among ``rows``."""
    ids = policy.matrices.ids
    counts = np.bincount(policy.chosen[rows] + 1, minlength=len(ids) + 1)
    mix = {"none": int(counts[0])}
    mix.update({action: int(counts[i + 1]) for i, action in enumerate(ids) if counts[i + 1]})
    return mix


def by_action(
    policy: Policy, columns: dict[str, npt.NDArray[np.float64]]
) -> dict[str, dict[str, float | int]]:
    """Per action given (in rule-set order): its contacts and the sums of ``columns``."""
    ids = policy.matrices.ids
    out: dict[str, dict[str, float | int]] = {}
    for i, action in enumerate(ids):
        rows = policy.chosen == i
        if rows.any():
            part: dict[str, float | int] = {"contacts": int(rows.sum())}
            part.update({name: float(values[rows].sum()) for name, values in columns.items()})
            out[action] = part
    return out
