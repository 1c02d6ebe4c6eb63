"""Service benchmark: in-process latency of each step, and the HTTP service under load.

    python bench/service.py inprocess   # each step of one decision, median and p99
    python bench/service.py http        # retention serve vs mlflow models serve, open loop
    python bench/service.py wrk         # the same two servers under wrk (closed loop)

``http`` starts ``retention serve`` (one worker, Redis features/counters/answers, the
decision log on PostgreSQL) and ``mlflow models serve`` of the churn booster alone (exported
as an MLflow LightGBM model: the baseline a data scientist would otherwise deploy), both on
127.0.0.1, and drives each at fixed rates with ``bench/loadgen.py`` (open loop). Bounded:
every run has a fixed length and both servers are stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadgen  # the sibling generator, run as a script

LOG_BACKENDS = ("sqlite-flush", "sqlite-commit", "postgresql-flush", "postgresql-commit")
PG_URL = "postgresql+psycopg://postgres@127.0.0.1/retention_bench"


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"median {p50 * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms (n={len(ordered)})"


def timed(label: str, items: list[Any], call: Callable[[Any], object]) -> None:
    samples = []
    for item in items:
        started = time.perf_counter()
        call(item)
        samples.append(time.perf_counter() - started)
    print(f"{label}: {percentiles(samples)}", flush=True)


def agreement(fast: Any, rows: list[np.ndarray]) -> None:
    """How often the path contributions' top reasons are TreeSHAP's (pred_contrib)."""
    path = np.vstack([fast.contributions(r) for r in rows])
    shap = np.vstack([fast.contrib.predict(r)[:-1] for r in rows])
    top_path = np.argsort(-np.abs(path), axis=1)[:, :3]
    top_shap = np.argsort(-np.abs(shap), axis=1)[:, :3]
    first = float(np.mean(top_path[:, 0] == top_shap[:, 0]))
    overlap = float(
        np.mean([len(set(a) & set(b)) / 3 for a, b in zip(top_path, top_shap, strict=True)])
    )
    same_sign = float(np.mean(np.sign(np.take_along_axis(path, top_path, 1))
                              == np.sign(np.take_along_axis(shap, top_path, 1))))  # fmt: skip
    corr = float(np.corrcoef(path.ravel(), shap.ravel())[0, 1])
    print(f"reason codes, path vs TreeSHAP on {len(rows)} customers: top reason the same "
          f"{first:.1%}, top-3 overlap {overlap:.1%}, sign of the path top-3 the same "
          f"{same_sign:.1%}, correlation {corr:.3f}", flush=True)  # fmt: skip


def ensure_database(url: str) -> None:
    """Create the benchmark's own PostgreSQL database (never touches another one)."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect("postgresql://postgres@127.0.0.1/postgres", autocommit=True) as c:
        if c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            c.execute(f'CREATE DATABASE "{name}"')


def inprocess(bundle: str, book: Path, rows: int) -> None:
    from engine.core.config import Settings
    from engine.decision import Context, decide
    from engine.features import build_matrix, build_row
    from engine.service.inputs import DecisionInput
    from engine.service.pipeline import DecisionService, Prepared
    from engine.service.runtime import Runtime
    from engine.stores.decision_log import SqlDecisionLog

    frame = pd.read_parquet(book).head(rows)
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "book.parquet"
        frame.to_parquet(small)
        settings = Settings(
            features_file=small, model_uri=bundle, keys_file=Path(tmp) / "keys.json",
            database_url=f"sqlite:///{tmp}/d.db", consistency_window_seconds=0,
        )  # fmt: skip
        runtime = Runtime.build(settings)
        service = runtime.service
        ids = frame["customer_id"].astype(str).tolist()
        rules, live = runtime.rules.current, runtime.models.current
        spec = live.bundle.features
        records = [runtime.stores.features.get(cid) or {} for cid in ids[:5000]]
        scores, _ = service.scorer.score(live, records[0], "warm")
        context = Context(now=datetime.now(UTC), channel="agent", intent="cancel_request",
                          event="renewal_due")  # fmt: skip
        timed("core decide (rules only, scores given)", ids[:5000],
              lambda cid: decide(rules, cid, records[0], scores, context))  # fmt: skip
        timed("feature row: build_matrix of a dict", records,
              lambda r: build_matrix(r, spec))  # fmt: skip
        timed("feature row: build_row (one-row fast path)", records,
              lambda r: build_row(r, spec))  # fmt: skip
        x = build_row(records[0], spec)
        timed("7 boosters via Booster.predict (num_threads=1)", records[:2000],
              lambda _: (live.bundle.p_churn(x, 1), live.bundle.uplift(x, 1)))  # fmt: skip
        fast = service.scorer.predictors(live.bundle)
        timed("7 boosters via the single-row fast path", records[:2000],
              lambda _: [p.predict(x[0]) for p in (fast.churn, *fast.uplift.values())])  # fmt: skip
        timed("churn pred_contrib (reason codes), fast path", records[:1000],
              lambda r: fast.contrib.predict(build_row(r, spec)[0]))  # fmt: skip
        timed("churn path contributions (reason codes), fast path", records[:1000],
              lambda r: fast.contributions(build_row(r, spec)[0]))  # fmt: skip
        agreement(fast, [build_row(r, spec)[0] for r in records[:2000]])
        keyed = list(enumerate(records))
        timed("scoring incl. reason codes (cold cache)", keyed,
              lambda ir: service.scorer.score(live, ir[1], f"cold-{ir[0]}"))  # fmt: skip
        timed("scoring, reason codes cached", keyed,
              lambda ir: service.scorer.score(live, ir[1], f"cold-{ir[0]}"))  # fmt: skip

        def decision(cid: str) -> DecisionInput:
            return DecisionInput(cid, "call_center", "cancel_request", "renewal_due")

        def prepare(cid: str) -> Prepared:
            # The in-process stores never suspend: run the coroutine to its end in place,
            # without an event loop's scheduling in the figure.
            live_now = service.live()
            step = service.prepare_decision(live_now, decision(cid), "agent", "k")
            try:
                step.send(None)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            raise RuntimeError("the in-process decision suspended")

        # In-process decision without the log commit (features from the in-process store,
        # scores, reason codes, rules, caps, the answer and its log record built).
        for label, keys in (("cold reason codes", ids[5000:8000]), ("cached", ids[5000:8000])):
            timed(f"decision without the log commit, {label}", keys, prepare)
        for backend in LOG_BACKENDS:
            logged = [prepare(cid).record for cid in ids[8000:9000]]  # fresh decision ids
            url = f"sqlite:///{tmp}/{backend}.db"
            if backend.startswith("postgresql"):
                ensure_database(PG_URL)
                url = PG_URL
            durability = "flush" if backend.endswith("flush") else "commit"
            log = SqlDecisionLog(url, durability=durability)
            timed(f"log commit alone, sequential, {backend}", logged, log.log)
            log.close()

        async def pipeline(keys: list[str], svc: DecisionService) -> list[float]:
            out = []
            for cid in keys:
                started = time.perf_counter()
                await svc.decide(decision(cid))
                out.append(time.perf_counter() - started)
            return out

        full = asyncio.run(pipeline(ids[:3000], service))
        print(f"full pipeline, sqlite FULL log (sequential): {percentiles(full)}", flush=True)
        runtime.close()


# -- HTTP ----------------------------------------------------------------------------------


def wait_ready(url: str, seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as reply:
            if reply.status == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not become ready")


def cpu_seconds(pid: int) -> float:
    """User + system CPU used so far by a process and its descendants (Linux /proc): the
    MLflow server answers from worker processes it starts."""
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            child = int(stat.parent.name)
            parents[child] = int(fields[1])
            used[child] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    family, grew = {pid}, True
    while grew:
        more = {c for c, parent in parents.items() if parent in family} - family
        family |= more
        grew = bool(more)
    return sum(used.get(p, 0.0) for p in family)


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], ready: str, log: Path) -> Iterator[int]:
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_ready(ready)
            yield process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def export_mlflow(bundle_path: str, frame: pd.DataFrame, target: Path) -> list[str]:
    """The churn booster alone as an MLflow LightGBM model with a signature."""
    import mlflow.lightgbm
    from mlflow.models import infer_signature

    from engine.scoring.bundle import ModelBundle

    bundle = ModelBundle.load(bundle_path)
    names = bundle.features.names
    x = pd.DataFrame(bundle.matrix(frame.head(200)), columns=names)
    signature = infer_signature(x, bundle.churn.predict(x.to_numpy()))
    mlflow.lightgbm.save_model(bundle.churn, str(target), signature=signature)
    return names


@dataclasses.dataclass(frozen=True)
class Target:
    """A running server: where to send requests, the i-th request's body, its headers."""

    url: str
    body: Callable[[int], bytes]
    headers: dict[str, str]
    pid: int


@contextlib.contextmanager
def serving(args: argparse.Namespace) -> Iterator[dict[str, Target]]:
    """The servers ``--targets`` names, started, warmed up and ready; stopped (and the
    benchmark's Redis keys deleted) at the end."""
    import redis

    from engine.auth.keys import KeyFile
    from engine.scoring.bundle import ModelBundle
    from engine.stores.features_redis import RedisFeatureStore

    frame = pd.read_parquet(args.book).head(args.customers)
    ids = frame["customer_id"].astype(str).tolist()
    rng = np.random.default_rng(1)
    order = rng.integers(0, len(ids), size=1_000_000)
    prefix = f"bench-service-{os.getpid()}"
    bundle = ModelBundle.load(args.bundle)
    matrix = bundle.matrix(frame)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = RedisFeatureStore(args.redis_url, prefix=prefix)
        store.push_frame(frame)
        store.close()
        ensure_database(PG_URL)
        token = KeyFile(root / "keys.json").create("bench", ["decide"])
        env = {
            **os.environ,
            "RETENTION_REDIS_URL": args.redis_url, "RETENTION_REDIS_PREFIX": prefix,
            "RETENTION_DATABASE_URL": PG_URL, "RETENTION_MODEL_URI": args.bundle,
            "RETENTION_KEYS_FILE": str(root / "keys.json"), "RETENTION_LOG_LEVEL": "WARNING",
            "RETENTION_CONSISTENCY_WINDOW_SECONDS": str(args.window),
            "RETENTION_DECISION_LOG_MAX_WAIT_MS": str(args.log_wait_ms),
            "RETENTION_DECISION_LOG_DURABILITY": args.durability,
            "RETENTION_DECISION_LOG_WRITER": args.log_writer,
        }  # fmt: skip
        names = export_mlflow(args.bundle, frame, root / "mlflow-churn")

        def decision(i: int) -> bytes:
            body = {"customer_id": ids[order[i]], "channel": "call_center", "limit": 3,
                    "context": {"intent": "cancel_request", "event": "renewal_due"}}  # fmt: skip
            return json.dumps(body).encode()

        def features_only(i: int) -> bytes:
            row = [None if np.isnan(v) else float(v) for v in matrix[order[i]]]
            return json.dumps({"dataframe_split": {"columns": names, "data": [row]}}).encode()

        commands = {
            "retention": (
                [sys.executable, "-m", "retention", "serve", "--port", str(args.port),
                 "--workers", str(args.workers)],
                f"http://127.0.0.1:{args.port}/readyz",
                f"http://127.0.0.1:{args.port}/v1/decisions", decision,
                {"Authorization": f"Bearer {token}"},
            ),
            "mlflow": (
                ["mlflow", "models", "serve", "-m", str(root / "mlflow-churn"), "-h",
                 "127.0.0.1", "-p", str(args.port + 1), "--env-manager", "local", "-w", "1"],
                f"http://127.0.0.1:{args.port + 1}/ping",
                f"http://127.0.0.1:{args.port + 1}/invocations", features_only, {},
            ),
        }  # fmt: skip
        wanted = args.targets.split(",")
        try:
            with contextlib.ExitStack() as stack:
                targets = {}
                for name, (command, ready, url, body, headers) in commands.items():
                    if name in wanted:
                        log = root / f"{name}.log"
                        pid = stack.enter_context(server(command, env, ready, log))
                        targets[name] = Target(url, body, headers, pid)
                for target in targets.values():
                    loadgen.run(target.url, target.body, rate=50, seconds=2, warmup=1,
                                headers=target.headers)  # fmt: skip
                yield targets
        finally:
            client = redis.Redis.from_url(args.redis_url)
            for key in client.scan_iter(match=f"{prefix}:*", count=1000):
                client.delete(key)
            client.close()


def http(args: argparse.Namespace) -> None:
    rates = [float(r) for r in args.rates.split(",")]
    results: dict[str, list[loadgen.Run]] = {"retention": [], "mlflow": []}
    with serving(args) as targets:
        # Interleaved, rate by rate, so both meet the same machine load.
        for rate in rates:
            for name, target in targets.items():
                runs = results[name]
                if runs and saturated(runs[-1]):
                    continue
                load = os.getloadavg()[0]
                cpu = cpu_seconds(target.pid)
                found = loadgen.run(target.url, target.body, rate=rate, seconds=args.seconds,
                                    headers=target.headers)  # fmt: skip
                cpu = (cpu_seconds(target.pid) - cpu) / max(1, len(found.latencies))
                runs.append(found)
                print(f"{name:9s} {found.line()}  server CPU {cpu * 1e3:.2f} ms/request"
                      f"  load {load:.1f}", flush=True)  # fmt: skip
    for name, runs in results.items():
        if name not in args.targets.split(","):
            continue
        ok = [r.rate for r in runs if r.pct(0.99) <= 10 and not r.errors]
        kept = [r.rate for r in runs if not saturated(r)]
        print(f"{name}: highest rate with p99 <= 10 ms and no errors: {max(ok, default=0):.0f}/s;"
              f" highest rate sustained: {max(kept, default=0):.0f}/s")  # fmt: skip


WRK_SCRIPT = """\
-- Generated by bench/service.py: cycles through pre-built request bodies.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
%(headers)s
local bodies = {
%(bodies)s
}
local i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
"""


def wrk(args: argparse.Namespace) -> None:
    """Both servers under ``wrk`` (Debian's, closed loop): ``--connections`` connections
    each sending its next request as soon as the last is answered, for ``--seconds``;
    throughput and wrk's own latency percentiles (a cross-check of the open-loop bench
    with a standard generator; wrk has no rate control, so no fixed-rate latencies)."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    with serving(args) as targets, tempfile.TemporaryDirectory() as tmp:
        for name, target in targets.items():
            script = Path(tmp) / f"{name}.lua"
            headers = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in target.headers.items())
            bodies = ",\n".join(f"[==[{target.body(i).decode()}]==]" for i in range(5_000))
            script.write_text(WRK_SCRIPT % {"headers": headers, "bodies": bodies})
            for connections in [int(c) for c in args.connections.split(",")]:
                cpu = cpu_seconds(target.pid)
                started = time.monotonic()
                done = subprocess.run(
                    ["wrk", "-t1", f"-c{connections}", f"-d{args.seconds:.0f}s", "--latency",
                     "-s", str(script), target.url],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                elapsed = time.monotonic() - started
                summary = _wrk_summary(done.stdout)
                cpu_per = (cpu_seconds(target.pid) - cpu) / max(1.0, summary["requests"])
                print(f"{name:9s} wrk {connections:3d} connections: "
                      f"{summary['requests'] / elapsed:8.0f} req/s  "
                      f"p50 {summary['p50']}  p90 {summary['p90']}  p99 {summary['p99']}  "
                      f"non-2xx {summary['non2xx']:.0f}  errors {summary['errors']}  "
                      f"server CPU {cpu_per * 1e3:.2f} ms/request", flush=True)  # fmt: skip


def _wrk_summary(out: str) -> dict[str, Any]:
    found: dict[str, Any] = {"non2xx": 0.0, "errors": "0"}
    for line in out.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] in ("50%", "90%", "99%"):
            found[f"p{words[0][:-1]}"] = words[1]
        elif "requests in" in line:
            found["requests"] = float(words[0])
        elif line.strip().startswith("Non-2xx"):
            found["non2xx"] = float(words[-1])
        elif line.strip().startswith("Socket errors"):
            found["errors"] = line.split(":", 1)[1].strip()
    return found


def saturated(run: loadgen.Run) -> bool:
    """The server no longer keeps up: errors, a backlog, or a p99 past one second."""
    return bool(run.errors) or run.achieved < 0.95 * run.rate or run.pct(0.99) > 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["inprocess", "http", "wrk"])
    parser.add_argument("--bundle", default="/tmp/shared/bundle")
    parser.add_argument("--book", type=Path, default=Path("/tmp/shared/book200k.parquet"))
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--rates", default="100,250,500,750,1000,1250,1500")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--window", type=int, default=0, help="consistency window (s)")
    parser.add_argument(
        "--log-wait-ms", type=float, default=0.0, help="group commit wait (0: what is queued)"
    )
    parser.add_argument(
        "--durability", choices=["flush", "commit"], default="flush",
        help="decision log: on disk before the answer (flush) or committed (commit)",
    )  # fmt: skip
    parser.add_argument(
        "--log-writer", choices=["auto", "loop", "process", "thread"], default="auto",
        help="decision log group commit: on the event loop (auto on PostgreSQL), in a "
             "child process or in a thread",
    )  # fmt: skip
    parser.add_argument(
        "--workers", type=int, default=1, help="retention serve worker processes (target: 1)"
    )
    parser.add_argument("--targets", default="retention,mlflow", help="servers to drive")
    parser.add_argument("--port", type=int, default=18750)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--connections", default="1,4,16", help="wrk: connections per run")
    args = parser.parse_args()
    if args.mode == "inprocess":
        inprocess(args.bundle, args.book, args.rows)
    elif args.mode == "wrk":
        wrk(args)
    else:
        http(args)


if __name__ == "__main__":
    main()
