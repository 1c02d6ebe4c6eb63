"""Benchmark: evaluating one rule expression per row, and vectorised over a large frame.

    python bench/expressions.py [--rows 1000000] [--output bench/results/expressions.md]

Per call: the median and p99 time of one evaluation of the reference rule over a dict of
five values, for our compiled expressions and, when installed, simpleeval (AST parsed once)
and rule-engine (typed context, rule parsed once). Those two are benchmark-only extras:
``pip install simpleeval rule-engine``; a missing one is reported, not fatal.

Vectorised: rows per second of ``evaluate_frame`` over ``--rows`` rows (no library compared
vectorises), against the same per-row function looped over the same rows.

Results go to the markdown file with the date and the command; figures vary run to run on a
shared machine, so compare alternatives within one run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from engine.rules.expression import ExpressionError, FieldType, StringEnum, compile_expression

TEXT = (
    "years_loss_free >= 3 and p_churn > 0.2 and segment in ['vip', 'affiliated'] and margin > 300"
)
ROW: dict[str, object] = {
    "years_loss_free": 5,
    "p_churn": 0.31,
    "segment": "vip",
    "margin": 412.5,
    "tenure": 7,
}
SCHEMA: dict[str, FieldType | str] = {
    "years_loss_free": "number",
    "p_churn": "number",
    "segment": StringEnum.of(["vip", "affiliated", "standard", "young"]),
    "margin": "number",
    "tenure": "number",
}
TARGET_US = 2.0
BATCH = 100  # calls per timed sample: one perf_counter call costs about as much as one rule
SAMPLES = 3000


def per_call(function: Callable[[], object]) -> tuple[float, float]:
    """Median and p99 of the per-call time in µs, each sample the mean over BATCH calls."""
    for _ in range(2000):
        function()
    times = []
    gc.disable()
    try:
        for _ in range(SAMPLES):
            start = time.perf_counter_ns()
            for _ in range(BATCH):
                function()
            times.append((time.perf_counter_ns() - start) / BATCH / 1000)
    finally:
        gc.enable()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def ours() -> tuple[Callable[[], object], str]:
    compiled = compile_expression(TEXT, SCHEMA, "condition")
    row = ROW
    assert compiled.evaluate(row) is True
    return lambda: compiled.evaluate(row), "compiled once; `Condition.evaluate(row)`"


def simpleeval_case(module: ModuleType) -> tuple[Callable[[], object], str]:
    evaluator = module.EvalWithCompoundTypes()  # the base class refuses list literals
    parsed = evaluator.parse(TEXT)
    row = ROW

    def run() -> object:
        evaluator.names = row
        return evaluator.eval(TEXT, previously_parsed=parsed)

    assert run() is True
    return run, "`EvalWithCompoundTypes`, AST parsed once, `names` set per row"


def rule_engine_case(module: ModuleType) -> tuple[Callable[[], object], str]:
    types = dict.fromkeys(ROW, module.DataType.FLOAT) | {"segment": module.DataType.STRING}
    context = module.Context(type_resolver=module.type_resolver_from_dict(types))
    rule = module.Rule(TEXT, context=context)
    row = ROW
    assert rule.matches(row) is True
    return lambda: rule.matches(row), "typed `Context`, `Rule` parsed once, `rule.matches(row)`"


def probes(simpleeval: ModuleType | None, rule_engine: ModuleType | None) -> list[str]:
    """What each engine does with a type error at load and with a missing value per row."""
    lines = []
    bad = "margin > 300 and segment > 3"
    missing = {**ROW, "margin": None}
    try:
        compile_expression(bad, SCHEMA, "condition")
    except ExpressionError as error:
        lines.append(f"- ours, `{bad}` at load: `{error.reason}` at column {error.column}")
    result = compile_expression(TEXT, SCHEMA, "condition").evaluate(missing)
    lines.append(f"- ours, margin=None: returns `{result}` (documented: comparison with missing)")
    if rule_engine is not None:
        types = dict.fromkeys(ROW, rule_engine.DataType.FLOAT)
        types["segment"] = rule_engine.DataType.STRING
        context = rule_engine.Context(type_resolver=rule_engine.type_resolver_from_dict(types))
        parse = _outcome(lambda: rule_engine.Rule(bad, context=context))
        lines.append(f"- rule-engine, `{bad}` at load: {parse}")
        rule = rule_engine.Rule(TEXT, context=context)
        lines.append(f"- rule-engine, margin=None: {_outcome(lambda: rule.matches(missing))}")
    if simpleeval is not None:
        evaluator = simpleeval.EvalWithCompoundTypes(names=missing)
        parse = _outcome(lambda: evaluator.parse(bad) and "an AST (nothing checked before eval)")
        lines.append(f"- simpleeval, `{bad}` at load: {parse}")
        lines.append(f"- simpleeval, margin=None: {_outcome(lambda: evaluator.eval(TEXT))}")
    return lines


def _outcome(action: Callable[[], object]) -> str:
    try:
        return f"returns `{action()!r}`"[:120]
    except Exception as error:
        return f"raises `{type(error).__name__}: {error}`"[:160]


def frame(rows: int, segment_dtype: str) -> pd.DataFrame:
    rng = np.random.default_rng(42)
    p_churn = rng.beta(2, 8, rows)
    p_churn[rng.random(rows) < 0.05] = np.nan  # some customers not scored
    segments = rng.choice(np.array(["vip", "affiliated", "standard", "young"], dtype=object), rows)
    return pd.DataFrame(
        {
            "years_loss_free": rng.integers(0, 12, rows),
            "p_churn": p_churn,
            "segment": pd.Series(segments, dtype=segment_dtype),
            "margin": rng.normal(350, 150, rows),
            "tenure": rng.integers(0, 30, rows),
        }
    )


def vectorised(rows: int) -> list[tuple[str, float, float]]:
    compiled = compile_expression(TEXT, SCHEMA, "condition")
    results = []
    for dtype in ("category", "str", "object"):
        data = frame(rows, dtype)
        compiled.evaluate_frame(data)  # warm-up
        times = []
        for _ in range(7):
            start = time.perf_counter()
            compiled.evaluate_frame(data)
            times.append(time.perf_counter() - start)
        best = statistics.median(times)
        results.append((f"segment as `{dtype}`", rows / best, best * 1000))
    return results


def row_loop(rows: int) -> tuple[float, float, bool]:
    """The per-row function looped over the same rows (records built beforehand)."""
    compiled = compile_expression(TEXT, SCHEMA, "condition")
    data = frame(rows, "category")
    records: list[Mapping[str, Any]] = data.astype(object).to_dict("records")  # type: ignore[assignment]
    start = time.perf_counter()
    looped = [compiled.evaluate(record) for record in records]
    elapsed = time.perf_counter() - start
    agree = bool(np.array_equal(np.array(looped), compiled.evaluate_frame(data)))
    return rows / elapsed, elapsed * 1000, agree


def compile_time() -> float:
    start = time.perf_counter()
    for _ in range(200):
        compile_expression(TEXT, SCHEMA, "condition")
    return (time.perf_counter() - start) / 200 * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--output", type=Path, default=Path("bench/results/expressions.md"))
    args = parser.parse_args()

    simpleeval = optional("simpleeval")
    rule_engine = optional("rule_engine")
    cases: list[tuple[str, tuple[Callable[[], object], str] | None, str]] = [
        ("ours (`engine.rules.expression`)", ours(), ""),
        ("simpleeval", simpleeval_case(simpleeval) if simpleeval else None, "simpleeval"),
        ("rule-engine", rule_engine_case(rule_engine) if rule_engine else None, "rule-engine"),
    ]
    per_row: dict[str, tuple[float, float]] = {}
    table = ["| engine | how | median µs/eval | p99 µs/eval |", "|---|---|---|---|"]
    for name, case, package in cases:
        if case is None:
            print(f"{name}: not installed (pip install {package}); skipped", file=sys.stderr)
            table.append(f"| {name} | not installed (`pip install {package}`) | – | – |")
            continue
        median, p99 = per_call(case[0])
        per_row[name] = (median, p99)
        table.append(f"| {name} | {case[1]} | {median:.2f} | {p99:.2f} |")
        print(f"{name}: median {median:.2f} µs, p99 {p99:.2f} µs", file=sys.stderr)

    vector_rows = vectorised(args.rows)
    loop_rate, loop_ms, agree = row_loop(args.rows)
    vector = [
        f"| ours, `evaluate_frame`, {label} | {rate:,.0f} | {ms:.1f} |"
        for label, rate, ms in vector_rows
    ]
    loop = "ours, `evaluate` in a Python loop over prebuilt dicts"
    vector.append(f"| {loop} | {loop_rate:,.0f} | {loop_ms:.0f} |")
    for line in vector:
        print(line, file=sys.stderr)

    ours_median = per_row["ours (`engine.rules.expression`)"][0]
    others = {name: value for name, value in per_row.items() if not name.startswith("ours")}
    fast_enough = [name for name, (median, _) in others.items() if median <= TARGET_US]
    best_vector, best_ms = max((rate, ms) for _, rate, ms in vector_rows)
    report = f"""# Rule expressions: per-row and vectorised evaluation

Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}
Command: `python bench/expressions.py --rows {args.rows}`
Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},
numpy {np.__version__}, pandas {pd.__version__}{_versions(simpleeval, rule_engine)}

Expression: `{TEXT}`, over a dict of five values (`{ROW}`).

## Per evaluation (one row)

Each sample is the mean of {BATCH} back-to-back calls (a `perf_counter` call costs about as
much as one evaluation); median and p99 over {SAMPLES} samples, garbage collector off.

{chr(10).join(table)}

Target: ≤ {TARGET_US:g} µs per evaluation.

## Vectorised over {args.rows:,} rows

Columns: `years_loss_free` int64, `p_churn` float64 with 5 % NaN, `segment` in three dtypes,
`margin` float64, `tenure` int64. Median of 7 runs after a warm-up.

| how | rows/s | ms per call |
|---|---|---|
{chr(10).join(vector)}

Row-by-row and vectorised results agree on all {args.rows:,} rows: {"yes" if agree else "NO"}.
Compiling the expression (parse, whitelist, type check, bytecode): {compile_time():.0f} µs,
once per rule load.

## Load-time checks and missing values

{chr(10).join(probes(simpleeval, rule_engine))}

## Choice

We pick our own small language (`engine.rules.expression`: Python's grammar through
`ast.parse`, an explicit node whitelist, a schema type check, then `compile()` to bytecode
for rows and numpy for frames) because it is the only candidate measured here that meets
every requirement of the issue at once. The issue prefers a well-kept library where one
meets the requirements; none does:

- **Speed per row.** Ours: {ours_median:.2f} µs median. {_speed_sentence(others, fast_enough)}
- **Vectorised evaluation of the same text.** Neither library evaluates over DataFrame
  columns (nor does CEL, 5.7 µs per compiled evaluation in REFERENCE.md); using them in
  the batch run means a Python call per row: {_batch_sentence(others, args.rows)}. Ours runs
  the same text column-wise at {best_vector:,.0f} rows/s ({best_ms:.1f} ms) and agrees
  with the per-row result on every row (also held by a hypothesis property test).
- **Load-time checks with locations.** rule-engine type-checks against a typed context but
  its errors carry no file/line/column and no "did you mean" (see the probe above);
  simpleeval checks nothing before evaluation. Ours reports `file:line:column` with a caret.
- **Missing values.** Both libraries raise on a None operand at evaluation time; ours gives
  the documented answer (comparison with missing is False, arithmetic is missing, ...),
  identically per row and per frame.

The cost is owning {_package_lines():,} lines (parse, check, compile, vectorise) with a
property test that pins row-wise and vectorised evaluation to each other. The safety
boundary is small and explicit: `parse.py` holds a whitelist of node types and of nine
function names.
"""
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report, encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)


def _speed_sentence(others: dict[str, tuple[float, float]], fast_enough: list[str]) -> str:
    if not others:
        return "No library was installed to compare (see the table)."
    measured = "; ".join(f"{name}: {median:.1f} µs" for name, (median, _) in others.items())
    if fast_enough:
        return f"{measured}; within the {TARGET_US:g} µs target: {', '.join(fast_enough)}."
    return f"{measured}: none within the {TARGET_US:g} µs target."


def _batch_sentence(others: dict[str, tuple[float, float]], rows: int) -> str:
    if not others:
        return "no library was installed to measure"
    return ", ".join(
        f"{name} ~{median * rows / 1e6:,.1f} s per {rows:,} rows"
        for name, (median, _) in others.items()
    )


def _package_lines() -> int:
    package = Path(compile_expression.__code__.co_filename).parent
    return sum(len(path.read_text().splitlines()) for path in package.glob("*.py"))


def _versions(*modules: ModuleType | None) -> str:
    found = []
    for module in modules:
        if module is not None:
            name = module.__name__.replace("_", "-")
            version = getattr(module, "__version__", None)
            if version is None:
                from importlib.metadata import version as metadata_version

                version = metadata_version(name)
            found.append(f"{name} {version}")
    return (", " + ", ".join(found)) if found else ""


if __name__ == "__main__":
    main()
