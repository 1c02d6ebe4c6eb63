"""Redis feature store: one hash per customer, ``{prefix}:cust:{customer_id}``.

Reads are one round trip (``HGETALL``; ``get_many`` pipelines them); values are typed by
their one-letter tag (``engine.stores.features_codec``). Writes replace a customer's hash
atomically (``MULTI DEL HSET EXEC``), so a push never leaves old and new values mixed.

The bulk push (``push_frame``) sends pre-built protocol on a dedicated connection with
replies switched off (``CLIENT REPLY OFF``): reading 400,000 "QUEUED" replies per 100,000
customers would cost more than building the commands. Errors are then invisible, so each
chunk ends with ``CLIENT REPLY ON`` and ``EXISTS`` over the chunk's keys: a rejected write
(out of memory, say) leaves its key missing after the DEL, and the count shows it. The next
chunk is built while Redis executes the previous one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from engine.errors import FeatureStoreUnavailable
from engine.stores.features import Features, _plain_record, feature_frame
from engine.stores.features_codec import (
    decode_hash,
    encode_hash_commands,
    encode_value,
    exists_command,
)
from engine.stores.redis_connection import connect_redis, redis_errors

if TYPE_CHECKING:
    import pandas as pd
    import redis

REPLY_OFF = b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n"
REPLY_ON = b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n"


class RedisFeatureStore:
    """Features in Redis, shared by every replica of the service."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "retention",
        timeout: float = 0.25,
        client: redis.Redis | None = None,
    ) -> None:
        self._url = url
        self.prefix = prefix
        # A client shared with the counter store lets a decision read both in one round
        # trip (engine.stores.customer_read).
        self._client: redis.Redis = client or connect_redis(url, timeout=timeout)

    @property
    def client(self) -> redis.Redis:
        return self._client

    def key(self, customer_id: str) -> str:
        return f"{self.prefix}:cust:{customer_id}"

    def get(self, customer_id: str) -> Features | None:
        key = self.key(customer_id)
        with redis_errors(FeatureStoreUnavailable, "feature store"):
            raw = self._client.hgetall(key)
        return self.decode(raw, customer_id)

    def decode(self, raw: Mapping[Any, Any], customer_id: str) -> Features | None:
        """A customer's ``HGETALL`` reply as features (None: unknown customer)."""
        return decode_hash(raw, self.key(customer_id)) if raw else None

    def get_many(self, customer_ids: Sequence[str]) -> list[Features | None]:
        with redis_errors(FeatureStoreUnavailable, "feature store"):
            pipe = self._client.pipeline(transaction=False)
            for cid in customer_ids:
                pipe.hgetall(self.key(cid))
            answers = pipe.execute()
        return [self.decode(raw, cid) for raw, cid in zip(answers, customer_ids, strict=True)]

    def put_many(self, records: Iterable[Mapping[str, object]]) -> int:
        """Replace the given customers' records, all in one transaction (small batches)."""
        prepared = [_plain_record(r) for r in records]
        with redis_errors(FeatureStoreUnavailable, "feature store"):
            pipe = self._client.pipeline(transaction=True)
            for cid, features in prepared:
                pipe.delete(self.key(cid))
                if features:
                    mapping = {name: encode_value(v) for name, v in features.items()}  # type: ignore[arg-type]
                    pipe.hset(self.key(cid), mapping=mapping)  # type: ignore[arg-type]
            pipe.execute()
        return len(prepared)

    def push_frame(
        self,
        frame: pd.DataFrame,
        *,
        chunk_size: int = 5_000,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Bulk-load a book (see the module docstring); calls ``progress(rows_done)``."""
        import pyarrow as pa

        frame = feature_frame(frame)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        # A bulk push may take seconds per chunk on a busy server: not the request timeout.
        bulk = connect_redis(self._url, timeout=60.0)
        try:
            with redis_errors(FeatureStoreUnavailable, "feature push"):
                connection = bulk.connection_pool.get_connection()
                try:
                    done = self._push(connection, table, chunk_size, progress)
                finally:
                    # Never hand back a connection that may still have replies switched off.
                    connection.disconnect()  # type: ignore[no-untyped-call]
                    bulk.connection_pool.release(connection)
        finally:
            bulk.close()
        return done

    def _push(
        self,
        connection: redis.connection.AbstractConnection,
        table: object,
        chunk_size: int,
        progress: Callable[[int], None] | None,
    ) -> int:
        pending = 0
        done = 0
        rows = table.num_rows  # type: ignore[attr-defined]
        for start in range(0, rows, chunk_size):
            chunk = table.slice(start, chunk_size)  # type: ignore[attr-defined]
            commands, key_piece = encode_hash_commands(chunk, self.prefix)
            connection.send_packed_command(  # type: ignore[no-untyped-call]
                [REPLY_OFF, *commands, REPLY_ON, *exists_command(key_piece)]
            )
            if pending:
                done += self._check(connection, pending)
                if progress is not None:
                    progress(done)
            pending = chunk.num_rows
        if pending:
            done += self._check(connection, pending)
            if progress is not None:
                progress(done)
        return done

    @staticmethod
    def _check(connection: redis.connection.AbstractConnection, expected: int) -> int:
        connection.read_response()  # +OK of CLIENT REPLY ON
        written = connection.read_response()
        if written != expected:
            raise FeatureStoreUnavailable(
                f"feature push: Redis stored only {written} of {expected} customers of a "
                "chunk (out of memory? see the Redis log)"
            )
        return expected

    def ping(self) -> None:
        with redis_errors(FeatureStoreUnavailable, "feature store"):
            self._client.ping()

    def close(self) -> None:
        self._client.close()
