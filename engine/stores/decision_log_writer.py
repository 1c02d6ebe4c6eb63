"""Group commit: many callers, one transaction, each caller waits for its own row.

Every decision must be durable before it is returned, but one commit (one disk flush) per
request caps throughput at the disk's flush rate. So callers put their row on a queue and
wait on a future; one writer thread takes what is queued (up to ``max_batch``, waiting up
to ``max_wait`` for more only when the batch is not full), inserts it in one transaction
and resolves every future after the commit. Under load, batches form by themselves while
the previous commit flushes; alone, a caller waits at most ``max_wait`` extra (0 by
default: a sequential caller paid the whole wait on every decision).

A batch that failed because of its data (``is_row_error``: a duplicate id) is retried row
by row, so one bad row fails only its own caller. When the database is down every caller
of the batch gets the error and the writer carries on with the next batch. ``close``
drains the queue, then stops the thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

logger = logging.getLogger(__name__)

Row = dict[str, Any]
_STOP = object()


class GroupCommitWriter:
    """Batches ``submit(row)`` calls into ``write(rows)`` transactions on one thread."""

    def __init__(
        self,
        write: Callable[[Sequence[Row]], None],
        *,
        max_batch: int = 256,
        max_wait_s: float = 0.0,
        on_error: Callable[[Exception], Exception] = lambda exc: exc,
        is_row_error: Callable[[Exception], bool] = lambda exc: True,
        name: str = "decision-log-writer",
        on_batch: Callable[[], None] | None = None,
    ) -> None:
        self._write = write
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._on_error = on_error
        self._is_row_error = is_row_error
        self._on_batch = on_batch  # called on the writer thread after each batch settles
        self._queue: queue.SimpleQueue[tuple[Row, Future[None]] | object] = queue.SimpleQueue()
        self._closed = False
        self._close_lock = threading.Lock()
        self.batches = 0  # transactions attempted (tests, metrics)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, row: Row, future: Future[None] | None = None) -> Future[None]:
        """Queue a row; the future resolves once it is committed (or fails). A future made
        by the caller may carry done-callbacks already: they then run on the writer thread."""
        future = Future() if future is None else future
        with self._close_lock:  # no row may slip in behind the stop marker
            if self._closed:
                raise RuntimeError("the decision log is closed")
            self._queue.put((row, future))
        return future

    def close(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then stop the writer thread (idempotent)."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        self._thread.join(timeout)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            deadline = time.monotonic() + self._max_wait_s
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    try:
                        item = self._queue.get(timeout=remaining)
                    except queue.Empty:
                        break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            self._commit(batch)  # type: ignore[arg-type]
            if self._on_batch is not None:
                self._on_batch()

    def _commit(self, batch: list[tuple[Row, Future[None]]]) -> None:
        live = [(row, f) for row, f in batch if f.set_running_or_notify_cancel()]
        if not live:
            return
        self.batches += 1
        try:
            self._write([row for row, _ in live])
        except Exception as exc:
            if len(live) == 1 or not self._is_row_error(exc):
                for _, future in live:  # e.g. the database is down: all fail alike
                    future.set_exception(self._on_error(exc))  # one instance per waiter
                return
            logger.warning(
                "decision log batch of %d failed (%s); retrying row by row",
                len(live),
                type(exc).__name__,
            )
            for row, future in live:
                try:
                    self._write([row])
                except Exception as one:
                    future.set_exception(self._on_error(one))
                else:
                    future.set_result(None)
            return
        for _, future in live:
            future.set_result(None)
