"""PNG charts of a simulation: action mix by segment, value by policy, renewal money."""

from __future__ import annotations

from pathlib import Path
from typing import Any

POLICY_COLOURS = ("#4c72b0", "#dd8452")


def write_plots(report: dict[str, Any], directory: Path) -> dict[str, Path]:
    """Write the charts the report allows; returns name → file."""
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window (and no display needed in CI)
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    charts = [("action_mix_by_segment", _action_mix), ("value_by_policy", _value_by_policy)]
    if "renewals" in report:
        charts.append(("renewal_money", _renewal_money))
    for name, draw in charts:
        figure, axes = plt.subplots(figsize=(8, 4.5))
        draw(report, axes)
        figure.tight_layout()
        path = directory / f"{name}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written[name] = path
    return written


def _action_mix(report: dict[str, Any], axes: Any) -> None:
    segments = report["policies"]["engine"]["by_segment"]
    actions = sorted({a for s in segments.values() for a in s["action_mix"] if a != "none"})
    bottom = [0.0] * len(segments)
    for action in actions:
        heights = [s["action_mix"].get(action, 0) for s in segments.values()]
        axes.bar(list(segments), heights, bottom=bottom, label=action)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axes.set_title("Engine: customers contacted, by action and segment")
    axes.set_ylabel("customers")
    if actions:  # an engine that contacts nobody has nothing to label
        axes.legend(fontsize=8)


def _value_by_policy(report: dict[str, Any], axes: Any) -> None:
    policies = report["policies"]
    names = list(policies)
    series = [("expected_net_value", "expected (model)")]
    if report.get("truth"):
        series.append(("true_net_value", "true (generator)"))
    width = 0.8 / len(series)
    for j, (key, label) in enumerate(series):
        xs = [i + j * width for i in range(len(names))]
        axes.bar(xs, [policies[n][key] for n in names], width, label=label,
                 color=POLICY_COLOURS[j])  # fmt: skip
    axes.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(names))])
    axes.set_xticklabels(names, rotation=20, ha="right", fontsize=8)
    axes.axhline(0, color="black", linewidth=0.6)
    axes.set_title("Net retained value by policy, same budgets")
    axes.legend(fontsize=8)


def _renewal_money(report: dict[str, Any], axes: Any) -> None:
    renewals = report["renewals"]
    groups = {"all": renewals, "loss-free 3y+": renewals["loss_free_3y"]}
    key = "true_net_value" if renewals["basis"] == "truth" else "expected_net_value"
    for j, policy in enumerate(("approve_all", "engine")):
        xs = [i + j * 0.4 for i in range(len(groups))]
        axes.bar(xs, [g[policy][key] for g in groups.values()], 0.4, label=policy,
                 color=POLICY_COLOURS[j])  # fmt: skip
    axes.set_xticks([i + 0.2 for i in range(len(groups))])
    axes.set_xticklabels(list(groups))
    axes.set_title(f"Renewal pricing: {key.replace('_', ' ')} over the lifetime horizon")
    axes.legend(fontsize=8)
