"""The decision log: every answer, written durably before it is returned, and its outcomes.

``SqlDecisionLog`` runs on SQLite (the embedded default, WAL journal) or PostgreSQL
(``postgresql+psycopg://``; a plain ``postgresql://`` URL is read as psycopg 3). By default a
returned decision is on disk (see ``Durability``). Writes of decisions go through the
group-commit writer (``engine.stores.decision_log_writer``); outcomes, rarer, commit on
their own and are idempotent per (decision, action).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from engine.core.json_codec import dumps
from engine.errors import ConfigError, RetentionError
from engine.stores.decision_log_loop import LoopGroupCommitWriter, LoopWriterConfig
from engine.stores.decision_log_process import ProcessGroupCommitWriter, WriterConfig
from engine.stores.decision_log_schema import (
    OUTCOMES,
    DecisionRecord,
    OutcomeKind,
    OutcomeRecord,
    decisions,
    metadata,
    outcomes,
    utc,
)
from engine.stores.decision_log_writer import GroupCommitWriter, Row
from engine.stores.errors import DecisionLogUnavailable, DecisionNotFound, OutcomeConflict

Durability = Literal["flush", "commit"]
"""When ``log`` returns. ``flush`` (default): the transaction is flushed to disk — SQLite
``synchronous=FULL``, PostgreSQL ``synchronous_commit=on`` — and survives a power cut; the
flush is the floor of a decision's latency (``fdatasync`` ~4 ms median on this machine's
disk, bench/results/service.md). ``commit``: the database has committed the transaction
and flushes it shortly after — SQLite WAL ``synchronous=NORMAL``, PostgreSQL
``synchronous_commit=off`` (WAL written within ~3 × ``wal_writer_delay``, 600 ms by
default). It survives a crash of this service, not of the database server or the machine.
A documented opt-in, never the default."""


Writer = Literal["process", "thread", "loop"]
"""Where the group commit runs. ``loop`` (PostgreSQL; the service's default there): on the
caller's event loop, one autocommitted INSERT per batch (``decision_log_loop``); ``log``
from outside a loop inserts on its own. ``process`` (the service's default on SQLite): a
child process with its own connection, so inserts and commits never hold the service's
interpreter lock. ``thread``: a thread of this process (commands, tests, tools)."""


def writer_for(url: str, setting: str) -> Writer:
    """The writer a setting names; ``auto``: ``loop`` on PostgreSQL, else ``process``."""
    if setting == "auto":
        return "loop" if make_url(url).get_backend_name() == "postgresql" else "process"
    if setting not in ("process", "thread", "loop"):
        raise ConfigError(f"decision log writer: auto, loop, process or thread, not {setting!r}")
    return setting  # type: ignore[return-value]


class DecisionLog(Protocol):
    """Where decisions and their outcomes are recorded."""

    durability: Durability
    writer: Writer

    @property
    def batches(self) -> int:
        """Group-commit transactions so far (decisions per transaction = load / batches)."""
        ...

    def log(self, decision: DecisionRecord) -> None:
        """Return once the decision is committed; raise if it could not be."""
        ...

    async def log_async(self, decision: DecisionRecord) -> None:
        """``log`` for the event loop: awaits the commit without blocking the loop."""
        ...

    def get(self, decision_id: str) -> DecisionRecord | None: ...

    def outcomes(self, decision_id: str) -> list[OutcomeRecord]: ...

    def record_outcome(
        self, decision_id: str, action_id: str, outcome: OutcomeKind, at: datetime
    ) -> OutcomeRecord: ...

    def export_joined(self, path: Path) -> int: ...

    def ping(self) -> None: ...

    def close(self) -> None: ...


_SQLITE_SYNCHRONOUS = {"flush": "FULL", "commit": "NORMAL"}
_PG_SYNCHRONOUS_COMMIT = {"flush": "on", "commit": "off"}


def make_engine(url: str, *, durability: Durability = "flush") -> Engine:
    """An engine for the log's URL, set up for the durability asked and for concurrency."""
    if durability not in _SQLITE_SYNCHRONOUS:
        raise ConfigError(f"decision log durability: flush or commit, not {durability!r}")
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ConfigError("the decision log needs a SQLite file, not an in-memory database")
        engine = create_engine(parsed)
        synchronous = _SQLITE_SYNCHRONOUS[durability]

        def pragmas(connection: Any, _record: Any) -> None:
            _sqlite_pragmas(connection, synchronous)

        event.listen(engine, "connect", pragmas)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(f"decision log: unsupported database {parsed.get_backend_name()!r}")
    # pre_ping: a pooled connection that died with a database restart is replaced, not used.
    return create_engine(parsed, pool_pre_ping=True, connect_args=_pg_settings(parsed, durability))


def _pg_settings(parsed: URL, durability: Durability) -> dict[str, Any]:
    # Added to the URL's own libpq ``options`` (e.g. a search_path), never replacing them.
    given = parsed.query.get("options", "")
    given = " ".join(given) if isinstance(given, tuple) else given
    synchronous = f"-c synchronous_commit={_PG_SYNCHRONOUS_COMMIT[durability]}"
    return {"connect_timeout": 5, "options": f"{given} {synchronous}".strip()}


def _pg_connect(engine: Engine, durability: Durability) -> dict[str, Any]:
    """psycopg.connect() arguments for the engine's database (the loop writer's own)."""
    parsed = engine.url
    args: dict[str, Any] = parsed.translate_connect_args(username="user", database="dbname")
    args.update({k: v for k, v in parsed.query.items() if isinstance(v, str)})
    args.update(_pg_settings(parsed, durability))
    return args


def _sqlite_pragmas(connection: Any, synchronous: str) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute(f"PRAGMA synchronous={synchronous}")  # FULL or NORMAL, see Durability
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _unavailable(exc: Exception, *, duplicate: bool = False) -> RetentionError:
    if duplicate or isinstance(exc, IntegrityError):
        return RetentionError("decision log: a decision with this id is already logged")
    cause = getattr(exc, "orig", None) or exc
    # Only the driver's first line: never SQL parameters (they hold customer data).
    detail = (str(cause).strip().splitlines() or ["no detail"])[0]
    return DecisionLogUnavailable(f"decision log: {type(cause).__name__}: {detail}")


class RowInserter:
    """Inserts batches of decision rows in one transaction each: what a writer calls.

    Only the writer's one thread calls it, so it holds one connection rather than taking
    one from the pool per batch: the pool's checkout with its liveness ping was a second
    round trip to the database on every commit, before the decision's answer could go
    (bench/results/service.md). A held connection that died while idle (the database
    restarted) fails the batch's INSERT; that batch is then tried once more on a new
    connection. A failure at COMMIT is never retried: the rows may be in.

    ``write_timeout_s``: a statement the database has not finished by then fails (its
    decisions get 503) rather than holding every decision behind it while the database
    hangs or a lock is held: PostgreSQL's ``statement_timeout`` and SQLite's
    ``busy_timeout`` on the held connection, as the loop writer's timeout does there.
    """

    def __init__(self, engine: Engine, write_timeout_s: float | None = None) -> None:
        self.engine = engine
        self._timeout_ms = None if write_timeout_s is None else max(1, round(write_timeout_s * 1e3))
        # PostgreSQL: rows go to the driver as they are, JSON already text (serialised once,
        # in the caller's thread): SQLAlchemy's statement execution and second json.dumps
        # cost the writer 0.31 ms of CPU per one-row commit, this path 0.13 ms
        # (bench/results/service.md). SQLite keeps SQLAlchemy's insert: its DateTime
        # storage format is SQLAlchemy's own.
        self.raw = self.engine.dialect.name == "postgresql"
        names = [c.name for c in decisions.columns]
        self._insert_sql = (
            f"INSERT INTO {decisions.name} ({', '.join(names)}) "
            f"VALUES ({', '.join(f'%({n})s' for n in names)})"
        )
        self._connection: Connection | None = None
        driver = engine.dialect.dbapi
        self._driver_integrity_error: type[Exception] = driver.IntegrityError  # type: ignore[union-attr]

    def insert(self, rows: Sequence[Row]) -> None:
        batch = list(rows)
        held = self._connection is not None
        try:
            self._insert(batch)
        except _InsertError as failed:
            if not (held and failed.lost_connection):
                raise failed.error from None
            self._insert(batch)  # on a new connection: the old one died while idle

    def _insert(self, batch: list[Row]) -> None:
        connection = self._connection
        if connection is None:
            connection = self._connection = self._connect()
        try:
            if self.raw:
                connection.exec_driver_sql(self._insert_sql, batch)
            else:
                connection.execute(decisions.insert(), batch)
        except Exception as exc:
            self._discard()
            lost = isinstance(exc, DBAPIError) and exc.connection_invalidated
            raise _InsertError(exc, lost) from exc
        try:
            connection.commit()
        except BaseException:
            self._discard()
            raise

    def _connect(self) -> Connection:
        connection = self.engine.connect()
        if self._timeout_ms is not None:
            try:
                if self.raw:
                    # Committed at once: a SET in a transaction that later aborts is undone.
                    connection.exec_driver_sql(f"SET statement_timeout = {self._timeout_ms}")
                    connection.commit()
                else:
                    connection.exec_driver_sql(f"PRAGMA busy_timeout = {self._timeout_ms}")
            except BaseException:
                connection.close()
                raise
        return connection

    def _discard(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(SQLAlchemyError):
                connection.close()

    def describe(self, exc: Exception) -> Exception:
        # The loop writer's errors are the driver's own, not SQLAlchemy's.
        return _unavailable(exc, duplicate=self.is_row_error(exc))

    def is_row_error(self, exc: Exception) -> bool:
        return isinstance(exc, IntegrityError | self._driver_integrity_error)

    def close(self) -> None:
        self._discard()
        self.engine.dispose()


class _InsertError(Exception):
    """An INSERT failed (nothing committed); ``lost_connection``: the connection was dead."""

    def __init__(self, error: Exception, lost_connection: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.lost_connection = lost_connection


class SqlDecisionLog:
    """The decision log on a SQL database, with group commit."""

    def __init__(
        self,
        url: str,
        *,
        max_batch: int = 256,
        max_wait_ms: float = 0.0,
        durability: Durability = "flush",
        writer: Writer = "thread",
        write_timeout_s: float = 5.0,
    ) -> None:
        """``write_timeout_s``: every writer fails a batch's decisions when the database
        has not answered by then (the loop writer by its own clock, the others by the
        database's statement or busy timeout, ``RowInserter``)."""
        if writer not in ("process", "thread", "loop"):
            raise ConfigError(f"decision log writer: process, thread or loop, not {writer!r}")
        self.durability: Durability = durability
        self.engine = make_engine(url, durability=durability)
        try:
            metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise _unavailable(exc) from exc
        self._inserter = inserter = RowInserter(self.engine, write_timeout_s)
        self._raw = inserter.raw
        self._writer: GroupCommitWriter | ProcessGroupCommitWriter | LoopGroupCommitWriter
        self._sync = threading.Lock()  # the loop writer's synchronous callers share the inserter
        if writer == "loop":
            if not inserter.raw:
                self.engine.dispose()
                raise ConfigError("decision log writer loop: needs PostgreSQL (SQLite: process)")
            on_loop = LoopWriterConfig(
                _pg_connect(self.engine, durability), decisions.name,
                tuple(c.name for c in decisions.columns), max_batch, max_wait_ms / 1000,
                write_timeout_s,
            )  # fmt: skip
            self._writer = LoopGroupCommitWriter(
                on_loop, on_error=inserter.describe, is_row_error=inserter.is_row_error
            )
        elif writer == "process":
            config = WriterConfig(url, durability, max_batch, max_wait_ms / 1000, write_timeout_s)
            self._writer = ProcessGroupCommitWriter(config)
        else:
            self._writer = GroupCommitWriter(
                inserter.insert,
                max_batch=max_batch,
                max_wait_s=max_wait_ms / 1000,
                on_error=inserter.describe,
                is_row_error=inserter.is_row_error,
            )
        self.writer: Writer = writer

    @property
    def batches(self) -> int:
        """Transactions committed so far by the group-commit writer."""
        return self._writer.batches

    def _row(self, decision: DecisionRecord) -> Row:
        # Serialise here, in the caller's thread, so a non-JSON value fails its own caller
        # at once instead of the writer's whole batch.
        request, response = dumps(decision.request).decode(), dumps(decision.response).decode()
        row = decision.row()
        if self._raw:
            row["request"], row["response"] = request, response
        return row

    def log(self, decision: DecisionRecord) -> None:
        if isinstance(self._writer, LoopGroupCommitWriter):
            # Not on an event loop: its own transaction, on the inserter's connection.
            row = self._row(decision)
            with self._sync:
                try:
                    self._inserter.insert([row])
                except Exception as exc:
                    raise self._inserter.describe(exc) from exc
            return
        self._writer.submit(self._row(decision)).result()

    async def log_async(self, decision: DecisionRecord) -> None:
        if isinstance(self._writer, ProcessGroupCommitWriter | LoopGroupCommitWriter):
            await self._writer.submit_async(self._row(decision))
        else:
            await asyncio.wrap_future(self._writer.submit(self._row(decision)))

    def get(self, decision_id: str) -> DecisionRecord | None:
        query = select(decisions).where(decisions.c.decision_id == decision_id)
        try:
            with self.engine.connect() as connection:
                row = connection.execute(query).first()
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from exc
        return None if row is None else DecisionRecord.from_row(row)

    def outcomes(self, decision_id: str) -> list[OutcomeRecord]:
        query = select(outcomes).where(outcomes.c.decision_id == decision_id)
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(query.order_by(outcomes.c.action_id)).all()
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from exc
        return [OutcomeRecord.from_row(r) for r in rows]

    def record_outcome(
        self, decision_id: str, action_id: str, outcome: OutcomeKind, at: datetime
    ) -> OutcomeRecord:
        """Record an outcome once; the same outcome again returns the stored record, a
        different one raises ``OutcomeConflict``; an unknown decision ``DecisionNotFound``."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}; one of {', '.join(OUTCOMES)}")
        wanted = OutcomeRecord(decision_id, action_id, outcome, utc(at))
        try:
            stored = self._stored_outcome(decision_id, action_id, insert=wanted)
            if stored is None:  # lost a race with an identical or conflicting insert
                stored = self._stored_outcome(decision_id, action_id, insert=None)
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from exc
        if stored is None:  # pragma: no cover - the row we raced with cannot vanish
            raise DecisionLogUnavailable("decision log: outcome vanished while recording")
        if stored.outcome != outcome:
            raise OutcomeConflict(
                f"decision {decision_id} action {action_id}: outcome {stored.outcome!r} "
                f"was already recorded; {outcome!r} conflicts with it"
            )
        return stored

    def _stored_outcome(
        self, decision_id: str, action_id: str, *, insert: OutcomeRecord | None
    ) -> OutcomeRecord | None:
        key = (outcomes.c.decision_id == decision_id) & (outcomes.c.action_id == action_id)
        try:
            with self.engine.begin() as connection:
                found = connection.execute(
                    select(decisions.c.decision_id).where(decisions.c.decision_id == decision_id)
                ).first()
                if found is None:
                    raise DecisionNotFound(f"no decision {decision_id!r} in the decision log")
                row = connection.execute(select(outcomes).where(key)).first()
                if row is not None:
                    return OutcomeRecord.from_row(row)
                if insert is None:
                    return None
                connection.execute(
                    outcomes.insert().values(
                        decision_id=decision_id,
                        action_id=action_id,
                        outcome=insert.outcome,
                        at=insert.at,
                    )
                )
                return insert
        except IntegrityError:
            return None

    def export_joined(self, path: Path) -> int:
        """Write decisions left-joined to their outcomes to CSV or Parquet; the row count."""
        from engine.stores.decision_log_export import export_joined

        return export_joined(self.engine, path)

    def ping(self) -> None:
        try:
            with self.engine.connect() as connection:
                connection.execute(select(1))
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from exc
        if isinstance(self._writer, ProcessGroupCommitWriter):
            self._writer.ping()

    def close(self) -> None:
        """Commit what is queued, stop the writer, close connections (idempotent)."""
        self._writer.close()
        self._inserter.close()  # the writer thread's connection; then the pool
