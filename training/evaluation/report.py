"""The evaluation report: PNG plots plus one self-contained HTML page (images inlined)."""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from engine.scoring.bundle import ModelBundle
from training.evaluation.bundle_eval import Evaluation, spread_verdict
from training.evaluation.plots import (
    plot_calibration,
    plot_feature_importance,
    plot_gains,
    plot_qini,
    plot_uplift_calibration,
)


def write_plots(evaluation: Evaluation, bundle: ModelBundle, out_dir: Path) -> dict[str, Path]:
    """Calibration, gains, feature importance, and per action the Qini curve and the uplift
    calibration, as PNG files."""
    plots = {
        "calibration": plot_calibration(
            evaluation.y, evaluation.p_churn, out_dir / "calibration.png",
            title="Churn calibration (held-out, untreated customers)",
        ),
        "gains": plot_gains(
            evaluation.y, evaluation.p_churn, out_dir / "gains.png",
            title="Cumulative gains: churners found by targeting the riskiest first",
        ),
        "feature_importance": plot_feature_importance(
            bundle.features.names,
            np.asarray(bundle.churn.feature_importance(importance_type="gain"), dtype=float),
            out_dir / "feature_importance.png",
            title="Churn model: feature importance (total gain)",
        ),
    }  # fmt: skip
    for action, curve in evaluation.qini.items():
        plots[f"qini__{action}"] = plot_qini(
            {"model": curve}, out_dir / f"qini__{action}.png", title=f"Qini curve: {action}"
        )
    for action, groups in evaluation.uplift_groups.items():
        plots[f"uplift_calibration__{action}"] = plot_uplift_calibration(
            groups, out_dir / f"uplift_calibration__{action}.png",
            title=f"Uplift calibration: {action} (held-out campaign)",
        )  # fmt: skip
    return plots


def _table(rows: Sequence[tuple[str, ...]], header: tuple[str, ...]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _qini_section(metrics: Mapping[str, Mapping[str, float]]) -> str:
    """Per model and action: the held-out Qini, its 95 % bootstrap interval, and whether
    the ranking is distinguishable from random targeting with this data; the calibration
    slope (1 = the predicted differences between customers are the observed ones) and
    what it says."""
    rows = []
    for model, values in metrics.items():
        for name in sorted(values):
            if not name.startswith("qini_low__"):
                continue
            action = name.removeprefix("qini_low__")
            low, high = values[name], values.get(f"qini_high__{action}", float("nan"))
            verdict = (
                "ranking better than random"
                if low > 0
                else "not distinguishable from random targeting with this data"
            )
            point = values.get(f"qini__{action}", float("nan"))
            spread = spread_verdict(values, action)
            rows.append(
                (
                    model, action, f"{point:.5f}", f"{low:.5f} – {high:.5f}", verdict,
                    spread.interval if spread else "—", spread.text if spread else "—",
                )
            )  # fmt: skip
    if not rows:
        return ""
    header = (
        "model", "action", "Qini (held out)", "95 % interval", "verdict",
        "calibration slope (95 %)", "what the campaign confirms",
    )  # fmt: skip
    return f"<h2>Uplift rankings</h2>{_table(rows, header)}"


def write_html(
    path: Path,
    title: str,
    metrics: Mapping[str, Mapping[str, float]],
    plots: Mapping[str, Path],
    notes: Sequence[str] = (),
    params: Mapping[str, object] | None = None,
) -> Path:
    """One HTML file with metric tables (a column per model) and the plots inlined."""
    models = list(metrics)
    names = sorted({name for values in metrics.values() for name in values})
    rows = [
        (name, *(f"{metrics[m][name]:.5f}" if name in metrics[m] else "—" for m in models))
        for name in names
    ]
    images = "".join(
        f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,'
        f'{base64.b64encode(file.read_bytes()).decode()}"><figcaption>{html.escape(name)}'
        "</figcaption></figure>"
        for name, file in plots.items()
    )
    param_table = (
        _table([(k, str(v)) for k, v in params.items()], ("parameter", "value")) if params else ""
    )
    note_list = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
td, th {{ border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: right; }}
td:first-child, th:first-child {{ text-align: left; }}
figure {{ display: inline-block; margin: 0.5rem; }}
img {{ max-width: 600px; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
{_qini_section(metrics)}
<h2>Metrics</h2>{_table(rows, ("metric", *models))}
<h2>Notes</h2><ul>{note_list or "<li>none</li>"}</ul>
<h2>Plots</h2>{images}
<h2>Parameters</h2>{param_table}
</body></html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page)
    return path
