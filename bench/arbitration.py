"""Benchmark: the pure decision core with the demo rule set, per customer and vectorised.

    python bench/arbitration.py [--rows 1000000] [--customers 5000] \
        [--output bench/results/arbitration.md]

Scores are given (no model): churn from the synthetic book's ground truth, lifetime value
4.5 × margin, uplift per action drawn at random (about a third negative). Per customer:
``decide`` and ``check_renewal`` timed call by call over ``--customers`` customers in three
request contexts, garbage collector on (as in the service); median, p99 and calls per second.
Vectorised: ``decide_frame``, ``to_frame``, ``allocate_budgets`` and ``check_renewals`` over
``--rows`` rows (a 100,000-customer book tiled), median of 3 runs. Then the vectorised
answer is compared with ``decide`` on 2,000 random rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from engine.decision import (
    Context,
    RenewalPrices,
    Scores,
    allocate_budgets,
    check_renewal,
    check_renewals,
    decide,
    decide_frame,
)
from engine.decision.inputs import Numbers
from engine.rules import RuleSet, load_rule_set
from training.synth import generate_book

RULES = Path(__file__).resolve().parents[1] / "rules" / "retention.yaml"
NOW = dt.datetime(2026, 6, 1, 10, 0)
CONTEXTS = {
    "agent, no intent": Context(now=NOW, channel="agent"),
    "agent, cancel_request at renewal": Context(
        now=NOW, channel="agent", intent="cancel_request", event="renewal_due"
    ),
    "email campaign": Context(now=NOW, channel="email"),
}
TARGET_US = 100.0


def scored_book(rules: RuleSet, rows: int, seed: int = 5) -> pd.DataFrame:
    base = generate_book(min(rows, 100_000), seed)
    book = pd.concat([base] * -(-rows // len(base)), ignore_index=True).head(rows)
    book["customer_id"] = np.char.add("C", np.arange(rows).astype(str)).astype(object)
    rng = np.random.default_rng(seed)
    book["p_churn"] = book["truth_p_churn__none"]
    book["clv"] = book["margin"] * 4.5
    book["current_premium"] = book["annual_premium"]
    for action in rules.actions:
        book[f"uplift__{action.id}"] = rng.normal(0.03, 0.05, rows)
    return book.drop(columns=[c for c in book.columns if c.startswith("truth_")])


def response(base: Numbers, current: Numbers) -> Callable[[Numbers], Numbers]:
    def p_churn_at(premiums: Numbers) -> Numbers:
        logit = np.log(base / (1 - base)) + 3.0 * (premiums / current - 1)
        found: Numbers = 1 / (1 + np.exp(-logit))
        return found

    return p_churn_at


def per_call(calls: list[Callable[[], object]]) -> tuple[float, float, float, float]:
    for call in calls[:200]:  # warm-up
        call()
    # What a service does after startup: long-lived objects out of the collector's way.
    gc.collect()
    gc.freeze()
    times = []
    for call in calls:
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    gc.unfreeze()
    micros = np.asarray(times) * 1e6
    median, p99 = float(np.median(micros)), float(np.percentile(micros, 99))
    return median, p99, float(micros.max()), 1e6 / float(micros.mean())


def median_seconds(function: Callable[[], object], runs: int = 3) -> tuple[float, object]:
    result: object = None
    times = []
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--output", type=Path, default=Path("bench/results/arbitration.md"))
    args = parser.parse_args()
    rules = load_rule_set(RULES)
    lines = [
        "# Decision core: arbitration and renewal checks, per customer and vectorised",
        "",
        f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"Command: `python bench/arbitration.py --rows {args.rows} --customers {args.customers}`",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]},"
        f" numpy {np.__version__}, pandas {pd.__version__}",
        f"Rule set: `rules/retention.yaml` sha256:{rules.short_hash} ({len(rules.actions)} actions,"
        f" {len(rules.context_weights)} context weights, {len(rules.guardrails)} guardrails,"
        f" {len(rules.price_policies)} price policies, top {rules.top_k})",
        "",
        "## Per customer (the real-time path)",
        "",
        f"Each call timed alone over {args.customers:,} customers of the synthetic book, after a"
        " warm-up; scores given (no model); garbage collector on, objects built before the run"
        " frozen (`gc.freeze()`, as a service does after startup).",
        "",
        "| call | context | median µs | p99 µs | max µs | calls/s (1 / mean) | offers per call |",
        "|---|---|---|---|---|---|---|",
    ]
    customers = scored_book(rules, args.customers)
    records = cast(list[dict[str, Any]], customers.to_dict("records"))
    scores = [
        Scores(
            r["p_churn"], r["clv"], r["margin"], {a.id: r[f"uplift__{a.id}"] for a in rules.actions}
        )
        for r in records
    ]
    for label, context in CONTEXTS.items():
        calls: list[Callable[[], object]] = [
            partial(decide, rules, r["customer_id"], r, s, context)
            for r, s in zip(records, scores, strict=True)
        ]
        median, p99, worst, rate = per_call(calls)
        offers = np.mean(
            [
                len(decide(rules, r["customer_id"], r, s, context).candidates)
                for r, s in zip(records[:1000], scores[:1000], strict=True)
            ]
        )
        lines.append(
            f"| `decide` | {label} | {median:.1f} | {p99:.1f} | {worst:.0f} | {rate:,.0f}"
            f" | {offers:.2f} |"
        )
    renewal = CONTEXTS["agent, cancel_request at renewal"]
    base, current = customers["p_churn"].to_numpy(), customers["current_premium"].to_numpy()
    prices = [
        RenewalPrices(r["current_premium"], r["proposed_premium"], r["new_business_premium"])
        for r in records
    ]
    calls = [
        partial(
            check_renewal,
            rules,
            r["customer_id"],
            r,
            s,
            price,
            response(base[i], current[i]),
            renewal,
        )
        for i, (r, s, price) in enumerate(zip(records, scores, prices, strict=True))
    ]
    median, p99, worst, rate = per_call(calls)
    lines.append(
        f"| `check_renewal` | renewal, agent | {median:.1f} | {p99:.1f} | {worst:.0f}"
        f" | {rate:,.0f} | ≤ 1 |"
    )
    lines += ["", f"Target: one decision well under {TARGET_US:.0f} µs.", ""]

    book = scored_book(rules, args.rows)
    book["channel"] = pd.Categorical(
        np.random.default_rng(1).choice(["agent", "web", "email", "sms"], args.rows)
    )
    context = Context(now=NOW, event="renewal_due")
    lines += [
        f"## Vectorised over {args.rows:,} rows (the batch path)",
        "",
        "Frame: the book's columns, `p_churn`, `clv`, one `uplift__<action>` per action, a"
        " `channel` column (categorical); batch context event `renewal_due`. Median of 3 runs.",
        "",
        "| step | seconds | rows/s |",
        "|---|---|---|",
    ]
    seconds, batch = median_seconds(lambda: decide_frame(rules, book, context))
    assert batch is not None
    frame_seconds, out = median_seconds(batch.to_frame)  # type: ignore[attr-defined]
    alloc_seconds, allocation = median_seconds(lambda: allocate_budgets(batch))  # type: ignore[arg-type]
    batch_response = response(book["p_churn"].to_numpy(), book["current_premium"].to_numpy())
    renewal_seconds, renewals = median_seconds(
        lambda: check_renewals(rules, book, batch_response, context)
    )
    for step, taken in (
        ("`decide_frame` (checks, values, ranking, control group, fallback)", seconds),
        ("`BatchDecisions.to_frame`", frame_seconds),
        ("`allocate_budgets` (3 budgets, total caps)", alloc_seconds),
        ("`check_renewals` (price policies, then the decision at the new price)", renewal_seconds),
    ):
        lines.append(f"| {step} | {taken:.2f} | {args.rows / taken:,.0f} |")
    assert isinstance(out, pd.DataFrame)
    verdicts = renewals.to_frame()["verdict"].value_counts(normalize=True)  # type: ignore[attr-defined]
    spent = ", ".join(f"{name} {amount:,.0f}" for name, amount in allocation.spent.items())  # type: ignore[attr-defined]
    lines += [
        "",
        f"Outcome: {out['action_1'].notna().mean():.1%} of rows get an offer"
        f" ({out['fallback_used'].mean():.1%} the fallback), {out['control_group'].mean():.1%}"
        f" held out; allocation spends {spent} of 250,000 / 150,000 / 40,000; renewal verdicts "
        + ", ".join(f"{name} {share:.1%}" for name, share in verdicts.items())
        + ".",
        "",
    ]
    rng = np.random.default_rng(2)
    sample = rng.choice(args.rows, size=min(2000, args.rows), replace=False)
    agree = 0
    for i in sample.tolist():
        record = book.iloc[i].to_dict()
        row_scores = Scores(
            record["p_churn"], record["clv"], record["margin"],
            {a.id: record[f"uplift__{a.id}"] for a in rules.actions},
        )  # fmt: skip
        row_context = Context(now=NOW, channel=record["channel"], event="renewal_due")
        expected = decide(rules, record["customer_id"], record, row_scores, row_context)
        agree += batch.decision(i) == expected  # type: ignore[attr-defined]
    lines += [
        f"Vectorised and per-customer decisions agree (full `Decision` equality, scripts and"
        f" reasons included) on {agree:,} of {len(sample):,} random rows.",
        "",
    ]
    args.output.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
