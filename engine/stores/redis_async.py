"""A small asyncio Redis client for the request path: pipelined, non-blocking, cheap.

The service's event loop serves every request of a worker. redis-py's synchronous client
holds the loop for each round trip (~70 µs of waiting on this machine, during which no
other request moves) and its per-command machinery costs ~85 µs of CPU per pipelined round
trip; its asyncio client does not block but costs more CPU still (~135 µs,
bench/results/service.md). This client writes a whole pipeline with one ``transport.write``
on the loop's own transport and parses replies with hiredis (C), so a round trip costs
~45 µs of CPU and the loop serves other requests while Redis answers.

One connection per event loop, opened on first use and shared by every coroutine on that
loop: commands are pipelined, Redis answers in order, so each call just waits for the next
replies in turn. Errors are redis-py's exception classes, so the stores map them to their
own errors exactly as they do for the synchronous client (``redis_connection``):

- an error *reply* (``WRONGTYPE``, ``NOSCRIPT``...) is returned in place of that command's
  reply as a ``redis.ResponseError``; the connection stays usable;
- no connection, or the connection lost: ``redis.ConnectionError``; no reply within the
  timeout: ``redis.TimeoutError``. Either way the connection is dropped (a late reply
  would otherwise be read as the next command's) and the next call opens a new one, so the
  client recovers by itself when Redis returns. There is no retry: a command that may have
  run (a reservation script) must not run twice.

Used only where a decision waits on Redis (``customer_read``, ``counters_redis``);
everything else keeps the synchronous client.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import hiredis
import redis
from redis.connection import parse_url

Arg = str | bytes | int | float
Command = Sequence[Arg]


def pack(commands: Sequence[Command]) -> bytes:
    """Commands in the Redis protocol (RESP arrays of bulk strings)."""
    out: list[bytes] = []
    for command in commands:
        out.append(b"*%d\r\n" % len(command))
        for arg in command:
            if isinstance(arg, bytes):
                data = arg
            elif isinstance(arg, str):
                data = arg.encode()
            elif isinstance(arg, float):
                data = repr(arg).encode()
            else:
                data = b"%d" % arg
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _reply(value: Any) -> Any:
    """hiredis's reply with error replies (also inside arrays) as redis-py's errors."""
    if isinstance(value, hiredis.ReplyError):
        return _response_error(str(value))
    if isinstance(value, list):
        return [_reply(v) for v in value]
    return value


def _response_error(text: str) -> redis.ResponseError:
    if text.startswith("NOSCRIPT"):
        return redis.exceptions.NoScriptError(text)
    return redis.ResponseError(text)


class _Pending:
    __slots__ = ("count", "future", "replies")

    def __init__(self, future: asyncio.Future[list[Any]], count: int) -> None:
        self.future = future
        self.count = count
        self.replies: list[Any] = []


class _Protocol(asyncio.Protocol):
    """Feeds Redis's bytes to hiredis and hands each call its replies, in order."""

    def __init__(self) -> None:
        self.reader = hiredis.Reader()
        self.waiting: deque[_Pending] = deque()
        self.transport: asyncio.Transport | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        try:
            while True:
                value = self.reader.gets()
                if value is False:
                    return
                if not self.waiting:  # a reply nobody asked for: the stream is out of step
                    raise hiredis.ProtocolError("unexpected reply")
                pending = self.waiting[0]
                pending.replies.append(_reply(value))
                if len(pending.replies) == pending.count:
                    self.waiting.popleft()
                    if not pending.future.done():
                        pending.future.set_result(pending.replies)
        except hiredis.ProtocolError as error:
            self.fail(redis.ConnectionError(f"protocol error: {error}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.fail(redis.ConnectionError("connection to Redis lost"))

    def fail(self, error: Exception) -> None:
        """Drop the connection and fail every call still waiting on it."""
        self.lost = True
        if self.transport is not None:
            self.transport.abort()
        while self.waiting:
            pending = self.waiting.popleft()
            if not pending.future.done():
                pending.future.set_exception(error)


@dataclass(frozen=True)
class _Endpoint:
    host: str
    port: int
    path: str | None
    tls: bool
    setup: tuple[Command, ...]  # AUTH and SELECT, sent first on every new connection


def _endpoint(url: str) -> _Endpoint:
    options: dict[str, Any] = parse_url(url)  # type: ignore[no-untyped-call]
    setup: list[Command] = []
    password, username = options.get("password"), options.get("username")
    if password is not None:
        setup.append(("AUTH", username, password) if username else ("AUTH", password))
    if options.get("db"):
        setup.append(("SELECT", int(options["db"])))
    return _Endpoint(
        host=options.get("host", "localhost"),
        port=int(options.get("port", 6379)),
        path=options.get("path"),
        tls=url.startswith("rediss://"),
        setup=tuple(setup),
    )


@dataclass(frozen=True)
class Script:
    """A Lua script, called by its SHA1 and sent whole once Redis says it lacks it."""

    source: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.source.encode()).hexdigest())


class AsyncRedis:
    """``await execute(command, ...)``: the commands' replies, in one round trip."""

    def __init__(self, url: str, *, timeout: float) -> None:
        self._endpoint = _endpoint(url)
        self.timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Future[_Protocol] | None = None

    async def execute(self, *commands: Command) -> list[Any]:
        protocol = await self._connected()
        return await self._send(protocol, commands)

    async def eval_script(self, script: Script, keys: Sequence[Arg], args: Sequence[Arg]) -> Any:
        """The script's reply (``EVALSHA``; ``EVAL`` when Redis has not cached it yet)."""
        head: list[Arg] = ["EVALSHA", script.sha, len(keys), *keys, *args]
        (reply,) = await self.execute(head)
        if isinstance(reply, redis.exceptions.NoScriptError):
            (reply,) = await self.execute(["EVAL", script.source, *head[2:]])
        if isinstance(reply, redis.RedisError):
            raise reply
        return reply

    async def _send(self, protocol: _Protocol, commands: Sequence[Command]) -> list[Any]:
        loop, transport = self._loop, protocol.transport
        assert loop is not None
        assert transport is not None
        future: asyncio.Future[list[Any]] = loop.create_future()
        protocol.waiting.append(_Pending(future, len(commands)))
        transport.write(pack(commands))
        timer = loop.call_later(self.timeout, self._timed_out, protocol, future)
        try:
            return await future
        finally:
            timer.cancel()

    def _timed_out(self, protocol: _Protocol, future: asyncio.Future[list[Any]]) -> None:
        if not future.done():
            protocol.fail(redis.TimeoutError(f"no reply from Redis within {self.timeout} s"))

    async def _connected(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # first use, or a new loop (each has its own transport)
            self._drop()
            self._loop, self._connecting = loop, None  # another loop's attempt is not ours
        protocol = self._protocol
        if protocol is not None and not protocol.lost:
            return protocol
        if self._connecting is None:
            self._connecting = loop.create_future()
            task = loop.create_task(self._connect())
            task.add_done_callback(self._connected_or_not)
        return await asyncio.shield(self._connecting)

    def _connected_or_not(self, task: asyncio.Task[_Protocol]) -> None:
        waiting = self._connecting
        if waiting is None or waiting.get_loop() is not task.get_loop():
            # An attempt of a loop this client has since left: close what it opened.
            if not task.cancelled() and task.exception() is None:
                task.result().fail(redis.ConnectionError("the client moved to another loop"))
            return
        self._connecting = None
        if task.cancelled():
            waiting.cancel()
            return
        if waiting.done():
            return
        error = task.exception()
        if error is None:
            self._protocol = task.result()
            waiting.set_result(self._protocol)
        else:
            waiting.set_exception(error)
            waiting.exception()  # marks it retrieved: no warning when no caller is left

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        where = self._endpoint
        try:
            async with asyncio.timeout(self.timeout):
                if where.path is not None:
                    _, protocol = await loop.create_unix_connection(_Protocol, where.path)
                else:
                    context = ssl.create_default_context() if where.tls else None
                    _, protocol = await loop.create_connection(
                        _Protocol, where.host, where.port, ssl=context
                    )
        except TimeoutError as error:
            raise redis.TimeoutError(
                f"connecting to Redis timed out after {self.timeout} s"
            ) from error
        except OSError as error:
            raise redis.ConnectionError(
                f"cannot connect to Redis: {error.strerror or error}"
            ) from error
        if where.setup:
            for reply in await self._send(protocol, where.setup):
                if isinstance(reply, redis.RedisError):
                    protocol.fail(redis.ConnectionError("closing after a failed setup"))
                    raise redis.AuthenticationError(str(reply))
        return protocol

    def _drop(self) -> None:
        protocol, self._protocol = self._protocol, None
        if protocol is None or protocol.transport is None:
            return
        loop = self._loop
        # The transport belongs to its loop; another loop's thread must not touch it. A
        # closed loop runs nothing: its socket is closed when the transport is collected.
        if loop is None or loop is _running_loop():
            protocol.transport.abort()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(protocol.transport.abort)

    def close(self) -> None:
        self._drop()
        self._loop = None


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
