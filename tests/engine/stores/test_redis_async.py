"""The request path's asyncio Redis client against the real server: pipelining, error
replies, scripts, timeouts, lost connections and recovery."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest
import redis

from engine.stores.redis_async import AsyncRedis, Script, pack

pytestmark = pytest.mark.integration


def test_pack_writes_the_redis_protocol() -> None:
    assert pack([("SET", "k", 1.5), (b"GET", 7)]) == (
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n1.5\r\n*2\r\n$3\r\nGET\r\n$1\r\n7\r\n"
    )


def test_concurrent_callers_each_get_their_own_replies(redis_url: str, redis_prefix: str) -> None:
    key = f"{redis_prefix}:n"

    async def main() -> list[list[object]]:
        client = AsyncRedis(redis_url, timeout=2.0)
        try:
            return await asyncio.gather(
                *(client.execute(("INCR", key), ("ECHO", f"call {i}")) for i in range(200))
            )
        finally:
            client.close()

    replies = asyncio.run(main())
    # Pipelined on one connection and answered in order: call i saw the i-th increment.
    assert replies == [[i + 1, f"call {i}".encode()] for i in range(200)]


def test_an_error_reply_takes_its_commands_place_and_the_connection_stays(
    redis_url: str, redis_prefix: str
) -> None:
    key = f"{redis_prefix}:text"

    async def main() -> tuple[list[object], list[object]]:
        client = AsyncRedis(redis_url, timeout=2.0)
        try:
            first = await client.execute(("SET", key, "x"), ("HGETALL", key), ("GET", key))
            return first, await client.execute(("GET", key))
        finally:
            client.close()

    (ok, wrong, value), after = asyncio.run(main())
    assert ok == b"OK"
    assert isinstance(wrong, redis.ResponseError)
    assert "WRONGTYPE" in str(wrong)
    assert value == b"x"
    assert after == [b"x"]


def test_a_script_is_sent_whole_when_redis_lacks_it(redis_url: str, redis_prefix: str) -> None:
    script = Script(f"-- {uuid.uuid4().hex}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])")
    failing = Script("return redis.call('NOSUCHCOMMAND')")
    key = f"{redis_prefix}:script"

    async def main() -> list[object]:
        client = AsyncRedis(redis_url, timeout=2.0)
        try:
            # Never seen by this server: EVALSHA says NOSCRIPT, EVAL loads it; then by SHA.
            got = [await client.eval_script(script, [key], [5])]
            got.append(await client.eval_script(script, [key], [2]))
            with pytest.raises(redis.ResponseError):
                await client.eval_script(failing, [], [])
            got.append(await client.eval_script(script, [key], [1]))  # still usable
            return got
        finally:
            client.close()

    assert asyncio.run(main()) == [5, 7, 8]


def test_unreachable_redis_fails_fast_with_a_connection_error() -> None:
    async def main() -> None:
        client = AsyncRedis("redis://127.0.0.1:1/0", timeout=0.5)
        with pytest.raises(redis.ConnectionError, match="cannot connect"):
            await client.execute(("PING",))

    started = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - started < 0.5


def test_a_slow_reply_times_out_and_the_next_call_has_a_fresh_connection(
    redis_url: str, redis_prefix: str
) -> None:
    async def main() -> list[object]:
        client = AsyncRedis(redis_url, timeout=0.2)
        try:
            with pytest.raises(redis.TimeoutError):
                await client.execute(("BLPOP", f"{redis_prefix}:empty", 1))
            # The late reply (after 1 s) cannot be read as this call's: new connection.
            return await client.execute(("ECHO", "after"))
        finally:
            client.close()

    assert asyncio.run(main()) == [b"after"]


def test_a_killed_connection_is_replaced_by_itself(redis_url: str) -> None:
    admin = redis.Redis.from_url(redis_url)

    async def main() -> list[object]:
        client = AsyncRedis(redis_url, timeout=1.0)
        try:
            (mine,) = await client.execute(("CLIENT", "ID"))
            admin.client_kill_filter(_id=mine)
            await asyncio.sleep(0.05)  # the loop sees the server close the socket
            return await client.execute(("CLIENT", "ID"))
        finally:
            client.close()

    try:
        (new_id,) = asyncio.run(main())
        assert isinstance(new_id, int)
    finally:
        admin.close()


def test_the_url_picks_the_database(redis_url: str, redis_prefix: str) -> None:
    key = f"{redis_prefix}:db"
    url = redis_url.rsplit("/", 1)[0] + "/3"

    async def main() -> None:
        client = AsyncRedis(url, timeout=1.0)
        try:
            await client.execute(("SET", key, "in db 3"))
        finally:
            client.close()

    asyncio.run(main())
    db3 = redis.Redis.from_url(url)
    try:
        assert db3.get(key) == b"in db 3"
        db3.delete(key)
    finally:
        db3.close()


def test_one_client_serves_one_loop_after_another(redis_url: str) -> None:
    """A test client's loop runs in a thread of its own; the next one is another loop. The
    client opens a connection on each and closes the old one on its own loop's thread."""
    client = AsyncRedis(redis_url, timeout=1.0)
    first = asyncio.new_event_loop()
    thread = threading.Thread(target=first.run_forever, daemon=True)
    thread.start()

    async def client_id() -> object:
        (found,) = await client.execute(("CLIENT", "ID"))
        return found

    async def close() -> None:
        client.close()

    try:
        on_first = asyncio.run_coroutine_threadsafe(client_id(), first).result(timeout=5)
        second = asyncio.new_event_loop()
        try:
            on_second = second.run_until_complete(client_id())
            assert on_second != on_first
            second.run_until_complete(close())
        finally:
            second.close()
    finally:
        first.call_soon_threadsafe(first.stop)
        thread.join(timeout=5)
        first.close()
