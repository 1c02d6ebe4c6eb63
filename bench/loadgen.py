"""Open-loop HTTP load at a fixed rate, latency measured from each request's *scheduled* time.

Plain ``wrk`` has no rate control and Debian has no ``wrk2``, so this is the small generator
the service benchmark uses: requests are due at ``start + i / rate`` whatever the server
does (no coordinated omission: a stalled server shows up as queueing delay in the figures),
sent over a pool of keep-alive HTTP/1.1 connections written with asyncio streams (no client
library: ~50 µs of client CPU per request, which matters on a 2-core machine).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class Run:
    rate: float
    seconds: float
    sent: int
    latencies: list[float]
    errors: int
    late: int
    """Requests still unanswered when the run's time was up (counted as errors too)."""

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1e3

    @property
    def achieved(self) -> float:
        return len(self.latencies) / self.seconds

    def line(self) -> str:
        median = statistics.median(self.latencies) * 1e3 if self.latencies else float("nan")
        return (
            f"rate {self.rate:6.0f}/s achieved {self.achieved:6.0f}/s  p50 {median:7.2f} ms  "
            f"p99 {self.pct(0.99):7.2f} ms  p99.9 {self.pct(0.999):7.2f} ms  "
            f"max {self.pct(1.0):7.2f} ms  errors {self.errors}"
        )


def _request(host: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes
) -> int:
    writer.write(payload)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def _run(
    url: str, body: Callable[[int], bytes], rate: float, seconds: float, warmup: float,
    connections: int, headers: dict[str, str],
) -> Run:  # fmt: skip
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    queue: asyncio.Queue[tuple[float, bytes, bool] | None] = asyncio.Queue()
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while (item := await queue.get()) is not None:
                due, payload, measured = item
                try:
                    status = await _exchange(reader, writer, payload)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    errors += measured
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                if not measured:
                    continue
                if status == 200:
                    latencies.append(time.perf_counter() - due)
                else:
                    errors += 1
        finally:
            writer.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    total = int((warmup + seconds) * rate)
    first_measured = int(warmup * rate)
    start = time.perf_counter() + 0.05
    target = urlsplit(url).path or "/"
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        payload = _request(f"{host}:{port}", target, body(i), headers)
        queue.put_nowait((due, payload, i >= first_measured))
    # Bounded drain: whatever is not answered 5 s after the last due time is late.
    deadline = start + total / rate + 5.0
    for _ in workers:
        queue.put_nowait(None)
    done, pending = await asyncio.wait(workers, timeout=max(0.0, deadline - time.perf_counter()))
    for task in pending:
        task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    for task in done:
        with contextlib.suppress(Exception):
            task.result()
    measured = total - first_measured
    late = max(0, measured - len(latencies) - errors)
    return Run(rate, seconds, measured, latencies, errors + late, late)


def run(
    url: str, body: Callable[[int], bytes], *, rate: float, seconds: float,
    warmup: float = 2.0, connections: int = 32, headers: dict[str, str] | None = None,
) -> Run:  # fmt: skip
    """One open-loop run: ``rate`` requests/s for ``warmup + seconds``; only ``seconds`` count."""
    import uvloop

    return uvloop.run(_run(url, body, rate, seconds, warmup, connections, headers or {}))
