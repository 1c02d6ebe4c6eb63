"""Group commit in a child process: the decision log's writes leave the service's GIL.

The thread writer (``GroupCommitWriter``) shares the interpreter lock with the requests.
Under load its inserts and commits held the lock ~0.35 ms per decision, and every request
thread that released the lock for a Redis round trip then waited for the writer to hand it
back (bench/results/service.md). Here the same ``GroupCommitWriter`` runs in a child
process with its own database connection; the service sends each row down a pipe and
resolves the caller's future when the child reports the commit: the event loop reads those
reports itself (``submit_async``), or a small reader thread does for callers without a loop
(``submit``). The parent's share per decision is one pickle and one pipe write.

Nothing changes for callers: the future resolves once the row is committed (or fails with
the same errors as in-process). If the child dies, the decisions
it had not acknowledged fail (they may or may not be committed: the caller gets an error,
so no answer is ever returned without its log row) and the next ``submit`` starts a new
child: the log recovers by itself. ``close`` lets the child commit what it was sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Literal

from engine.errors import RetentionError
from engine.stores.decision_log_writer import GroupCommitWriter, Row
from engine.stores.errors import DecisionLogUnavailable

logger = logging.getLogger(__name__)

# Child → parent: (transactions committed so far, [(sequence number, None or (error class
# name, message))]).
Ack = tuple[int, tuple[str, str] | None]
_ERRORS: dict[str, type[RetentionError]] = {
    "DecisionLogUnavailable": DecisionLogUnavailable,
    "RetentionError": RetentionError,
}


@dataclass(frozen=True)
class WriterConfig:
    """What the child needs to open its own connection and batch like the thread writer."""

    url: str
    durability: Literal["flush", "commit"]
    max_batch: int
    max_wait_s: float
    write_timeout_s: float | None = None


Waiter = Future[None] | asyncio.Future[None]


@dataclass
class _Child:
    """One child process and the rows it was sent and has not acknowledged yet."""

    process: subprocess.Popen[bytes]
    rows: Connection
    acks: Connection
    pending: dict[int, Waiter] = field(default_factory=dict)
    alive: bool = True
    batches: int = 0
    # Who reads this child's acks, fixed by the first row sent: a thread (``submit``) or
    # the event loop itself (``submit_async``: no second thread competing for the GIL and
    # no cross-thread wake-up per commit).
    reader: Literal["thread", "loop"] | None = None
    loop: asyncio.AbstractEventLoop | None = None

    def stopped(self) -> str:
        code = self.process.poll()
        return "still stopping" if code is None else f"exit code {code}"


RESTART_INTERVAL_S = 1.0
"""At most one new child per interval: a child that cannot start (a broken install, a bad
URL) must not be respawned for every decision. Decisions in between fail at once (503)."""


class ProcessGroupCommitWriter:
    """``GroupCommitWriter``'s interface, with the batches written by a child process."""

    def __init__(self, config: WriterConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._sequence = itertools.count()
        self._closed = False
        self._child: _Child | None = None
        self._retired_batches = 0  # committed by children that have stopped
        self._started_at = 0.0
        with self._lock:
            self._child = self._start()

    def _start(self) -> _Child:
        # A fresh interpreter, not fork (the service holds threads and native libraries
        # that must not be duplicated) and not multiprocessing's spawn (it re-imports the
        # parent's __main__, which may be any script). Rows and acks travel over two pipes
        # framed by multiprocessing's Connection; the configuration, which may hold a
        # database password, is the first message, never a command-line argument.
        rows_read, rows_write = os.pipe()
        acks_read, acks_write = os.pipe()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(rows_read), str(acks_write)],
                pass_fds=(rows_read, acks_write),
                stdin=subprocess.DEVNULL,
                env=env,
            )
        finally:
            os.close(rows_read)  # the child's ends: closing ours lets either side see EOF
            os.close(acks_write)
        self._started_at = time.monotonic()
        rows = Connection(rows_write, readable=False)
        acks = Connection(acks_read, writable=False)
        with contextlib.suppress(OSError):  # died at once: noticed at the first row
            _send(rows, self._config)
        return _Child(process, rows, acks)

    def _replace(self, child: _Child | None) -> _Child:
        """Under the lock: a live child, starting a new one if ``child`` stopped (at most
        once per ``RESTART_INTERVAL_S``; ``DecisionLogUnavailable`` meanwhile)."""
        if child is not None and child.alive:
            return child
        if child is not None:
            if time.monotonic() - self._started_at < RESTART_INTERVAL_S:
                raise DecisionLogUnavailable(
                    f"decision log: the writer process stopped ({child.stopped()}); "
                    f"restarting it in under {RESTART_INTERVAL_S:.0f} s"
                )
            self._retired_batches += child.batches
            _reap(child.process)
        self._child = self._start()
        return self._child

    def ping(self) -> None:
        """Readiness: a live writer process (a stopped one is restarted here too)."""
        with self._lock:
            if not self._closed:
                self._replace(self._child)

    def submit(self, row: Row) -> Future[None]:
        """Send a row to the child; the future resolves once it is committed (or fails)."""
        future: Future[None] = Future()
        self._send(row, future, None)
        return future

    async def submit_async(self, row: Row) -> None:
        """Send a row to the child and wait for its commit, acks read by this event loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._send(row, future, loop)
        await future

    def _send(self, row: Row, future: Waiter, loop: asyncio.AbstractEventLoop | None) -> None:
        with self._lock:  # one writer on the pipe at a time; no row behind the stop marker
            if self._closed:
                raise RuntimeError("the decision log is closed")
            try:
                child = self._replace(self._child)
            except DecisionLogUnavailable as restarting:
                _settle(future, restarting)
                return
            self._ensure_reader(child, loop)
            sequence = next(self._sequence)
            child.pending[sequence] = future
            try:
                _send(child.rows, (sequence, row))
            except (OSError, ValueError) as exc:  # the child is gone; the next row restarts
                child.pending.pop(sequence, None)
                child.alive = False
                gone = DecisionLogUnavailable(f"decision log: writer process unreachable: {exc}")
                _settle(future, gone)

    def _ensure_reader(self, child: _Child, loop: asyncio.AbstractEventLoop | None) -> None:
        """Called under the lock: make sure someone reads ``child``'s acks."""
        if child.reader == "thread":
            return
        if child.reader == "loop" and child.loop is not None and not child.loop.is_closed():
            # The reading loop settles every caller's future, hands other loops theirs.
            return
        # Nobody reads yet, or the reading loop was closed (an app restarted in this
        # process, a test's ``asyncio.run`` ended): the caller's side takes over.
        if loop is None:
            child.reader, child.loop = "thread", None
            threading.Thread(
                target=self._read_acks, args=(child,), name="decision-log-acks", daemon=True
            ).start()
        else:
            child.reader, child.loop = "loop", loop
            loop.add_reader(child.acks.fileno(), self._on_acks, child)

    @property
    def batches(self) -> int:
        """Transactions committed by the writer processes (tests, metrics)."""
        with self._lock:
            child = self._child
            return self._retired_batches + (0 if child is None else child.batches)

    def _read_acks(self, child: _Child) -> None:
        while True:
            try:
                message: tuple[int, list[Ack]] = _receive(child.acks)
            except (EOFError, OSError):
                break
            self._acknowledge(child, message)
        self._lost(child)

    def _on_acks(self, child: _Child) -> None:
        """The event loop's reader callback: every ack message waiting on the pipe."""
        try:
            while child.acks.poll():
                self._acknowledge(child, _receive(child.acks))
        except (EOFError, OSError):
            if child.loop is not None and not child.loop.is_closed():
                child.loop.remove_reader(child.acks.fileno())
            self._lost(child)

    def _acknowledge(self, child: _Child, message: tuple[int, list[Ack]]) -> None:
        committed, acks = message
        with self._lock:
            child.batches = committed
            waiters = [(child.pending.pop(s, None), error) for s, error in acks]
        for waiter, error in waiters:
            if waiter is None:
                continue
            if error is None:
                _settle(waiter, None)
            else:
                kind, text = error
                _settle(waiter, _ERRORS.get(kind, RetentionError)(text))

    def _lost(self, child: _Child) -> None:
        with self._lock:
            child.alive = False
            lost = list(child.pending.values())
            child.pending.clear()
        if lost:
            code = child.process.poll()
            logger.error("decision log writer process stopped (exit code %s)", code)
        for waiter in lost:
            _settle(
                waiter,
                DecisionLogUnavailable(
                    "decision log: the writer process stopped before confirming this "
                    "decision; it is restarted on the next decision"
                ),
            )

    def close(self, timeout: float = 10.0) -> None:
        """Let the child commit what it was sent, then stop it (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            child = self._child
        if child is None:
            return
        if child.alive:
            with contextlib.suppress(OSError, ValueError):
                _send(child.rows, None)  # the stop marker, behind every row sent
        try:
            child.process.wait(timeout)
        except subprocess.TimeoutExpired:
            logger.error("decision log writer process did not stop in %.0f s", timeout)
            child.process.terminate()
            child.process.wait(timeout)
        child.rows.close()
        loop = child.loop
        if loop is not None and not loop.is_closed():
            fd = child.acks.fileno()
            if _running_loop() is loop:
                loop.remove_reader(fd)
            else:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(loop.remove_reader, fd)


def _reap(process: subprocess.Popen[bytes]) -> None:
    """Collect a stopped child's exit status (its pipes are closed: it is exiting)."""
    try:
        process.wait(0.5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _settle(waiter: Waiter, error: BaseException | None) -> None:
    """Resolve a caller's future from whichever thread or loop read its ack."""
    if isinstance(waiter, asyncio.Future):
        loop = waiter.get_loop()
        if loop.is_closed():
            return
        if _running_loop() is loop:
            _settle_async(waiter, error)
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(_settle_async, waiter, error)
        return
    if not waiter.set_running_or_notify_cancel():
        return
    if error is None:
        waiter.set_result(None)
    else:
        waiter.set_exception(error)


def _settle_async(waiter: asyncio.Future[None], error: BaseException | None) -> None:
    if waiter.done():  # cancelled: the request went away
        return
    if error is None:
        waiter.set_result(None)
    else:
        waiter.set_exception(error)


def serve(rows: Connection, acks: Connection) -> None:
    """The child: rows in, one ``GroupCommitWriter`` on its own connection, acks out.

    This thread receives rows and queues them; the writer thread commits each batch and
    sends its acknowledgements itself, so a decision's commit crosses one thread hand-off
    in the child, not two."""
    # The service stops its children itself, after its last request is logged; a Ctrl-C
    # sent to the whole process group must not kill the writer first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from engine.stores.decision_log import RowInserter, make_engine

    config: WriterConfig = _receive(rows)
    inserter = RowInserter(
        make_engine(config.url, durability=config.durability), config.write_timeout_s
    )
    ready: list[Ack] = []  # touched on the writer thread only (callbacks and on_batch)

    def acknowledge(sequence: int, future: Future[None]) -> None:
        error = future.exception()
        ready.append((sequence, None if error is None else (type(error).__name__, str(error))))

    def send_acks() -> None:
        if ready:
            message = (writer.batches, ready.copy())
            ready.clear()
            with contextlib.suppress(OSError, ValueError):  # the service is gone
                acks.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    writer = GroupCommitWriter(
        inserter.insert,
        max_batch=config.max_batch,
        max_wait_s=config.max_wait_s,
        on_error=inserter.describe,
        is_row_error=inserter.is_row_error,
        on_batch=send_acks,
    )
    while True:
        try:
            item: tuple[int, Row] | None = _receive(rows)
        except (EOFError, OSError):  # the service is gone: commit what came, stop
            item = None
        if item is None:
            break
        sequence, row = item
        future: Future[None] = Future()
        future.add_done_callback(functools.partial(acknowledge, sequence))
        writer.submit(row, future)
    writer.close()  # commits (and acknowledges) what was queued
    inserter.close()
    acks.close()


def _send(connection: Connection, message: object) -> None:
    # Plain pickle, not Connection.send's ForkingPickler: the same bytes, fewer µs.
    connection.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def _receive(connection: Connection) -> Any:
    return pickle.loads(connection.recv_bytes())


if __name__ == "__main__":
    serve(
        Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False)
    )
