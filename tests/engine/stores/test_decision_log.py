"""Decision log on SQLite and PostgreSQL: durable group commit, idempotent outcomes, export."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pandas as pd
import pytest

from engine.errors import ConfigError, RetentionError
from engine.stores.decision_log import SqlDecisionLog, Writer, writer_for
from engine.stores.decision_log_process import (
    RESTART_INTERVAL_S,
    ProcessGroupCommitWriter,
    WriterConfig,
)
from engine.stores.decision_log_schema import DecisionRecord, metadata
from engine.stores.decision_log_writer import GroupCommitWriter
from engine.stores.errors import DecisionLogUnavailable, DecisionNotFound, OutcomeConflict

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def decision(customer: str = "C1", decision_id: str | None = None) -> DecisionRecord:
    return DecisionRecord(
        decision_id=decision_id or uuid.uuid4().hex,
        created_at=T0,
        customer_id=customer,
        channel="call_center",
        kind="decision",
        inputs_digest="d" * 64,
        request={"customer_id": customer, "context": {"intent": "cancel_request"}},
        response={
            "actions": [{"action_id": "loyalty_discount_10", "expected_value": 41.5}],
            "reasons": ["price increase 19 %"],
        },
        model_version="retention-bundle/7",
        ruleset_hash="a1b2c3",
        control_group=False,
        degraded=False,
    )


@pytest.fixture(
    params=[
        ("sqlite", "thread"),
        ("sqlite", "process"),
        pytest.param(("postgresql", "thread"), marks=pytest.mark.integration),
        pytest.param(("postgresql", "process"), marks=pytest.mark.integration),
        pytest.param(("postgresql", "loop"), marks=pytest.mark.integration),
    ],
    ids=lambda p: "-".join(p),
)
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlDecisionLog]:
    database, writer = request.param
    if database == "sqlite":
        url = f"sqlite:///{tmp_path / 'decisions.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    decision_log = SqlDecisionLog(url, max_batch=64, max_wait_ms=2, writer=writer)
    yield decision_log
    decision_log.close()


def test_logged_decision_reads_back(log: SqlDecisionLog) -> None:
    record = decision()
    log.log(record)
    assert log.get(record.decision_id) == record
    assert log.get("unknown") is None


def test_log_async_awaits_the_commit(log: SqlDecisionLog) -> None:
    records = [decision(f"C{i}") for i in range(20)]

    async def main() -> None:
        await asyncio.gather(*(log.log_async(r) for r in records))

    asyncio.run(main())
    assert all(log.get(r.decision_id) == r for r in records)


def test_concurrent_callers_share_transactions(log: SqlDecisionLog) -> None:
    before = log.batches
    records = [decision(f"C{i}") for i in range(400)]
    if log.writer == "loop":  # its callers are coroutines on one event loop

        async def main() -> None:
            await asyncio.gather(*(log.log_async(r) for r in records))

        asyncio.run(main())
        assert all(log.get(r.decision_id) is not None for r in records[::37])
        assert 0 < log.batches - before < len(records) / 3
        return
    start = threading.Barrier(40)

    def work(chunk: list[DecisionRecord]) -> None:
        start.wait()
        for record in chunk:
            log.log(record)

    threads = [threading.Thread(target=work, args=(records[i::40],)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(log.get(r.decision_id) is not None for r in records[::37])
    commits = log.batches - before
    assert 0 < commits < len(records) / 3, commits  # batched, not one flush per decision


def test_duplicate_fails_only_its_caller(log: SqlDecisionLog) -> None:
    first = decision()
    log.log(first)
    with pytest.raises(RetentionError, match="already logged"):
        log.log(decision(decision_id=first.decision_id))
    other = decision()
    log.log(other)
    assert log.get(other.decision_id) == other


def test_non_json_request_fails_at_once(log: SqlDecisionLog) -> None:
    bad = decision()
    object.__setattr__(bad, "request", {"when": datetime.now(UTC)})
    with pytest.raises(TypeError, match="JSON serializable"):
        log.log(bad)


def test_writer_survives_a_database_error(log: SqlDecisionLog) -> None:
    metadata.drop_all(log.engine)
    with pytest.raises(DecisionLogUnavailable, match="decision log"):
        log.log(decision())
    metadata.create_all(log.engine)
    record = decision()
    log.log(record)
    assert log.get(record.decision_id) == record


def test_outcomes_are_idempotent_and_conflicts_are_refused(log: SqlDecisionLog) -> None:
    record = decision()
    log.log(record)
    at = T0 + timedelta(minutes=5)
    stored = log.record_outcome(record.decision_id, "loyalty_discount_10", "accepted", at)
    again = log.record_outcome(
        record.decision_id, "loyalty_discount_10", "accepted", at + timedelta(hours=1)
    )
    assert again == stored
    assert stored.at == at
    with pytest.raises(OutcomeConflict, match="'accepted' was already recorded; 'declined'"):
        log.record_outcome(record.decision_id, "loyalty_discount_10", "declined", at)
    log.record_outcome(record.decision_id, "premium_freeze", "declined", at)
    assert [o.outcome for o in log.outcomes(record.decision_id)] == ["accepted", "declined"]
    with pytest.raises(DecisionNotFound):
        log.record_outcome("nope", "x", "accepted", at)
    with pytest.raises(ValueError, match="unknown outcome"):
        log.record_outcome(record.decision_id, "x", "maybe", at)  # type: ignore[arg-type]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_joins_outcomes(log: SqlDecisionLog, tmp_path: Path, suffix: str) -> None:
    answered, silent = decision("C1"), decision("C2")
    log.log(answered)
    log.log(silent)
    log.record_outcome(answered.decision_id, "loyalty_discount_10", "accepted", T0)
    path = tmp_path / f"joined{suffix}"
    assert log.export_joined(path) == 2
    frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    by_customer = frame.set_index("customer_id")
    assert by_customer.loc["C1", "outcome"] == "accepted"
    assert pd.isna(by_customer.loc["C2", "outcome"])
    assert "loyalty_discount_10" in by_customer.loc["C1", "response"]


@pytest.mark.parametrize("writer", ["thread", "process"])
def test_close_drains_and_refuses_later_writes(tmp_path: Path, writer: Writer) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    decision_log = SqlDecisionLog(url, writer=writer)
    decision_log.log(decision())
    records = [decision(f"C{i}") for i in range(50)]
    futures = [decision_log._writer.submit(decision_log._row(r)) for r in records]
    decision_log.close()
    assert all(f.done() and f.exception() is None for f in futures)
    reader = SqlDecisionLog(url)
    assert all(reader.get(r.decision_id) == r for r in records)
    reader.close()
    decision_log.close()
    with pytest.raises(RuntimeError, match="closed"):
        decision_log.log(decision())


def test_writer_isolates_a_bad_row_and_keeps_going() -> None:
    written: list[list[int]] = []

    def write(rows: object) -> None:
        batch = [r["n"] for r in rows]  # type: ignore[attr-defined]
        if 13 in batch:
            raise ValueError("unlucky row")
        written.append(batch)

    writer = GroupCommitWriter(write, max_batch=8, max_wait_s=0.01)
    futures = [writer.submit({"n": n}) for n in range(30)]
    errors = [n for n, f in enumerate(futures) if f.exception(timeout=5) is not None]
    writer.close()
    assert errors == [13]
    assert sorted(n for batch in written for n in batch) == [n for n in range(30) if n != 13]
    assert max(len(b) for b in written) > 1


def test_a_killed_writer_process_fails_its_decisions_and_is_replaced(tmp_path: Path) -> None:
    decision_log = SqlDecisionLog(f"sqlite:///{tmp_path / 'd.db'}", writer="process")
    try:
        decision_log.log(decision())
        writer = decision_log._writer
        assert isinstance(writer, ProcessGroupCommitWriter)
        first = writer._child
        assert first is not None
        first.process.kill()
        first.process.wait(10)
        # Sent to the dead child or after it was noticed: either way never silently lost.
        failed: DecisionLogUnavailable | None = None
        try:
            decision_log.log(decision())
        except DecisionLogUnavailable as error:
            failed = error
        assert failed is None or "writer process" in str(failed)
        time.sleep(RESTART_INTERVAL_S)  # this child was killed young: restarts are spaced
        record = decision()
        decision_log.log(record)
        assert writer._child is not first
        assert decision_log.get(record.decision_id) == record
    finally:
        decision_log.close()


def test_process_writer_acks_follow_the_caller(tmp_path: Path) -> None:
    """Acks are read by the event loop that logs; a closed loop hands over to the next
    loop or to a thread; a child killed under a loop is replaced as well."""
    decision_log = SqlDecisionLog(f"sqlite:///{tmp_path / 'd.db'}", writer="process")
    writer = decision_log._writer
    assert isinstance(writer, ProcessGroupCommitWriter)
    records = [decision(f"C{i}") for i in range(60)]

    async def burst(chunk: list[DecisionRecord]) -> None:
        await asyncio.gather(*(decision_log.log_async(r) for r in chunk))

    try:
        asyncio.run(burst(records[:20]))
        assert writer._child is not None
        assert writer._child.reader == "loop"
        asyncio.run(burst(records[20:40]))  # a new loop takes over from the closed one
        for record in records[40:50]:
            decision_log.log(record)  # no loop at all: a thread takes over
        assert writer._child.reader == "thread"

        async def killed_then_recovered() -> None:
            child = writer._child
            assert child is not None
            child.process.kill()
            await asyncio.to_thread(child.process.wait, 10)
            with contextlib.suppress(DecisionLogUnavailable):
                await decision_log.log_async(decision())
            await asyncio.sleep(RESTART_INTERVAL_S)
            await burst(records[50:])

        asyncio.run(killed_then_recovered())
        assert all(decision_log.get(r.decision_id) == r for r in records)
    finally:
        decision_log.close()


def test_a_writer_that_cannot_start_is_not_respawned_for_every_decision(tmp_path: Path) -> None:
    # A URL the parent accepts but the child cannot use: every child stops at once.
    config = WriterConfig("oracle://nowhere/db", "flush", 8, 0.0)
    writer = ProcessGroupCommitWriter(config)
    try:
        first = writer.submit({"n": 1})
        with pytest.raises(DecisionLogUnavailable, match="writer process"):
            first.result(timeout=30)
        spawned = writer._child
        # Within the restart interval: refused at once, no new process.
        with pytest.raises(DecisionLogUnavailable, match="restarting it"):
            writer.submit({"n": 2}).result(timeout=1)
        with pytest.raises(DecisionLogUnavailable, match="restarting it"):
            writer.ping()
        assert writer._child is spawned
        time.sleep(RESTART_INTERVAL_S + 0.1)
        writer.ping()  # one new attempt, which will stop again
        assert writer._child is not spawned
    finally:
        writer.close()


@pytest.mark.integration
@pytest.mark.parametrize("writer", ["thread", "process"])
def test_the_writer_replaces_a_connection_that_died_while_idle(
    postgres_url: str, writer: Writer
) -> None:
    """The writer holds its connection between batches; PostgreSQL restarting (here: every
    backend of the database terminated) must not fail the next decision."""
    import psycopg

    log = SqlDecisionLog(postgres_url, writer=writer)
    try:
        first = decision("C1")
        log.log(first)
        dsn = postgres_url.split("?")[0].replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
        assert killed is not None
        assert killed[0] >= 1
        time.sleep(0.2)
        second = decision("C2")
        log.log(second)
        assert log.get(first.decision_id) == first
        assert log.get(second.decision_id) == second
    finally:
        log.close()


@pytest.mark.integration
def test_the_loop_writer_isolates_a_duplicate_and_survives_a_database_restart(
    postgres_url: str,
) -> None:
    import psycopg

    log = SqlDecisionLog(postgres_url, writer="loop", max_wait_ms=5)
    dsn = postgres_url.split("?")[0].replace("postgresql+psycopg://", "postgresql://")
    first = decision("C1")
    batch = [decision(f"B{i}") for i in range(20)]
    twin = decision("C1-again", decision_id=first.decision_id)
    later = decision("C2")

    async def main() -> list[BaseException | None]:
        await log.log_async(first)
        # One batch (the writer waits 5 ms for company) with one duplicate in it.
        results = await asyncio.gather(
            *(log.log_async(r) for r in [*batch[:10], twin, *batch[10:]]),
            return_exceptions=True,
        )
        with psycopg.connect(dsn, autocommit=True) as admin:  # PostgreSQL "restarts"
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        await asyncio.sleep(0.2)
        await log.log_async(later)  # the idle connection died: a new one, no failure
        return results

    try:
        results = asyncio.run(main())
        failed = [r for r in results if r is not None]
        assert len(failed) == 1
        assert "already logged" in str(failed[0])
        assert all(log.get(r.decision_id) == r for r in [first, *batch, later])
    finally:
        log.close()


def test_the_loop_writer_needs_postgresql(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs PostgreSQL"):
        SqlDecisionLog(f"sqlite:///{tmp_path / 'd.db'}", writer="loop")
    assert writer_for("postgresql://db/x", "auto") == "loop"
    assert writer_for(f"sqlite:///{tmp_path / 'd.db'}", "auto") == "process"
    assert writer_for("postgresql://db/x", "thread") == "thread"


@pytest.mark.integration
def test_the_loop_writer_fails_decisions_the_database_does_not_answer_in_time(
    postgres_url: str,
) -> None:
    """A hung database (here: the table locked by another transaction) fails the waiting
    decisions after the timeout instead of holding them; once it answers again, so does
    the log."""
    import psycopg

    log = SqlDecisionLog(postgres_url, writer="loop", write_timeout_s=0.5)
    dsn = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    options = dsn.split("options=", 1)[1] if "options=" in dsn else ""
    base = dsn.split("?")[0]
    held, later = decision("C1"), decision("C2")

    async def main() -> float:
        await log.log_async(decision("C0"))  # connected
        with psycopg.connect(base, options=unquote(options)) as locker:
            locker.execute("LOCK TABLE decisions IN ACCESS EXCLUSIVE MODE")
            started = time.monotonic()
            with pytest.raises(DecisionLogUnavailable, match=r"within 0\.5 s"):
                await log.log_async(held)
            waited = time.monotonic() - started
        await log.log_async(later)  # the lock is gone: a new connection, logged
        return waited

    try:
        assert asyncio.run(main()) < 2.0
        assert log.get(later.decision_id) == later
    finally:
        log.close()


def _lock_and_log(log: SqlDecisionLog, lock: contextlib.AbstractContextManager[object]) -> float:
    """With ``lock`` held by another connection, log one decision (it must fail, not wait),
    then one after the lock is gone (it must be logged). Returns the failing call's wait."""
    held, later = decision("C1"), decision("C2")

    async def main() -> float:
        await log.log_async(decision("C0"))  # connected
        with lock:
            started = time.monotonic()
            with pytest.raises(DecisionLogUnavailable, match=r"statement timeout|locked"):
                await log.log_async(held)
            waited = time.monotonic() - started
        await log.log_async(later)
        return waited

    waited = asyncio.run(main())
    assert log.get(held.decision_id) is None  # failed is failed: never logged behind the 503
    assert log.get(later.decision_id) == later
    return waited


@pytest.mark.integration
@pytest.mark.parametrize("writer", ["thread", "process"])
def test_thread_and_process_writers_fail_decisions_a_locked_postgresql_table_holds(
    postgres_url: str, writer: Writer
) -> None:
    import psycopg

    log = SqlDecisionLog(postgres_url, writer=writer, write_timeout_s=0.5)
    dsn = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    options = dsn.split("options=", 1)[1] if "options=" in dsn else ""

    @contextlib.contextmanager
    def locked() -> Iterator[None]:
        with psycopg.connect(dsn.split("?")[0], options=unquote(options)) as locker:
            locker.execute("LOCK TABLE decisions IN ACCESS EXCLUSIVE MODE")
            yield

    try:
        assert 0.4 < _lock_and_log(log, locked()) < 2.0
    finally:
        log.close()


@pytest.mark.parametrize("writer", ["thread", "process"])
def test_thread_and_process_writers_fail_decisions_a_locked_sqlite_file_holds(
    tmp_path: Path, writer: Writer
) -> None:
    import sqlite3

    path = tmp_path / "decisions.db"
    log = SqlDecisionLog(f"sqlite:///{path}", writer=writer, write_timeout_s=0.5)

    @contextlib.contextmanager
    def locked() -> Iterator[None]:
        locker = sqlite3.connect(path, isolation_level=None)
        try:
            locker.execute("BEGIN IMMEDIATE")  # holds the one writer lock
            yield
            locker.execute("ROLLBACK")
        finally:
            locker.close()

    try:
        assert 0.4 < _lock_and_log(log, locked()) < 2.0
    finally:
        log.close()
