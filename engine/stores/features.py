"""Online feature store: the interface, the book loader and the in-process implementation.

A customer's features are a ``dict[str, object]`` of plain Python scalars (``bool``,
``int``, ``float``, ``str``), without ``customer_id`` (it is the key). A missing value is an
absent key, in every implementation, so both stores answer alike and the rule layer (which
treats an absent key as missing) needs no special case.

Columns named ``truth_*`` (the synthetic book's ground truth) are never loaded: serving
must not see what it is later judged against.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from engine.errors import ConfigError, DataContractError

if TYPE_CHECKING:
    import pandas as pd

ID_COLUMN = "customer_id"
HIDDEN_PREFIX = "truth_"

Features = dict[str, object]


class FeatureStore(Protocol):
    """Where the decision pipeline looks customers up (one round trip per call)."""

    def get(self, customer_id: str) -> Features | None:
        """The customer's stored features, or None for an unknown customer."""
        ...

    def get_many(self, customer_ids: Sequence[str]) -> list[Features | None]:
        """Features of several customers, in the order asked (None where unknown)."""
        ...

    def put_many(self, records: Iterable[Mapping[str, object]]) -> int:
        """Store records (each with ``customer_id``), replacing what was stored; the count."""
        ...

    def ping(self) -> None:
        """Raise ``FeatureStoreUnavailable`` when the store cannot answer (readiness)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def read_book(path: Path) -> pd.DataFrame:
    """Read a CSV or Parquet book and shape it for a feature store (see ``feature_frame``)."""
    import pandas as pd

    if not path.is_file():
        raise ConfigError(f"feature file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame = pd.read_parquet(path)
    elif suffix == ".csv":
        # customer_id stays text: "00042" must not become 42.
        frame = pd.read_csv(path, dtype={ID_COLUMN: str})
    else:
        raise ConfigError(
            f"feature file {path}: unknown extension {suffix!r}; use .parquet or .csv"
        )
    return feature_frame(frame, origin=str(path))


def feature_frame(frame: pd.DataFrame, origin: str = "frame") -> pd.DataFrame:
    """The frame both stores load: truth_* dropped, ids as text and unique, plain dtypes.

    Columns other than bool, integer, float and text (dates, decimals, mixed objects) are
    turned into text here, once, so the in-process and Redis stores hold the same values.
    """
    import pandas as pd

    if ID_COLUMN not in frame.columns:
        raise DataContractError(f"{origin}: no {ID_COLUMN!r} column", column=ID_COLUMN)
    keep = [c for c in frame.columns if not str(c).startswith(HIDDEN_PREFIX)]
    frame = frame.loc[:, keep].reset_index(drop=True)
    ids = frame[ID_COLUMN]
    if ids.isna().any():
        rows = [int(i) for i in ids.index[ids.isna()][:10]]
        raise DataContractError(
            f"{origin}: empty {ID_COLUMN} in rows {rows}", column=ID_COLUMN, rows=rows
        )
    frame[ID_COLUMN] = ids.astype(str).astype(object)
    duplicated = frame[ID_COLUMN].duplicated(keep=False)
    if duplicated.any():
        rows = [int(i) for i in frame.index[duplicated][:10]]
        raise DataContractError(
            f"{origin}: {ID_COLUMN} is not unique (rows {rows})", column=ID_COLUMN, rows=rows
        )
    for column in frame.columns:
        series = frame[column]
        if column == ID_COLUMN or series.dtype.kind in "biuf":
            continue
        if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
            frame[column] = series.astype(object).where(series.notna(), None)
            continue
        frame[column] = series.map(lambda v: None if _is_missing(v) else str(v)).astype(object)
    return frame


def _is_missing(value: object) -> bool:
    return value is None or value != value  # NaN and pandas.NA are not equal to themselves


class InMemoryFeatureStore:
    """Features held column-wise in this process (the embedded default).

    Columns are numpy arrays (8 bytes a number instead of a Python object per value), and
    a record is assembled on ``get``: about 1 µs a column, with memory for a million
    customers in the hundreds of megabytes rather than gigabytes of dicts.
    """

    def __init__(self, frame: pd.DataFrame | None = None) -> None:
        self._lock = threading.Lock()
        self._row: dict[str, int] = {}
        self._columns: list[tuple[str, object]] = []
        self._overrides: dict[str, Features] = {}
        if frame is not None:
            self._load(feature_frame(frame))

    @classmethod
    def from_file(cls, path: Path) -> InMemoryFeatureStore:
        """Load a CSV/Parquet book keyed by ``customer_id``."""
        store = cls()
        store._load(read_book(path))
        return store

    def _load(self, frame: pd.DataFrame) -> None:
        self._row = {cid: i for i, cid in enumerate(frame[ID_COLUMN].tolist())}
        self._columns = [
            (str(c), frame[c].to_numpy(copy=True)) for c in frame.columns if c != ID_COLUMN
        ]

    def __len__(self) -> int:
        return len(self._row.keys() | self._overrides.keys())

    def get(self, customer_id: str) -> Features | None:
        found = self._overrides.get(customer_id)
        if found is not None:
            return dict(found)
        row = self._row.get(customer_id)
        if row is None:
            return None
        record: Features = {}
        for name, values in self._columns:
            value = values.item(row)  # type: ignore[attr-defined]  # numpy: a Python scalar
            if value is not None and value == value:
                record[name] = value
        return record

    def get_many(self, customer_ids: Sequence[str]) -> list[Features | None]:
        return [self.get(cid) for cid in customer_ids]

    def put_many(self, records: Iterable[Mapping[str, object]]) -> int:
        prepared = [_plain_record(r) for r in records]
        with self._lock:  # a reader sees a record whole, never half-replaced
            for cid, features in prepared:
                self._overrides[cid] = features
        return len(prepared)

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None


def _plain_record(record: Mapping[str, object]) -> tuple[str, Features]:
    if record.get(ID_COLUMN) is None:
        raise DataContractError(f"record without {ID_COLUMN}: {sorted(record)}", column=ID_COLUMN)
    features: Features = {}
    for key, value in record.items():
        if key == ID_COLUMN or key.startswith(HIDDEN_PREFIX) or _is_missing(value):
            continue
        features[key] = plain_scalar(value)
    return str(record[ID_COLUMN]), features


def plain_scalar(value: object) -> bool | int | float | str:
    """numpy scalars to Python ones; other types (dates, decimals) to text."""
    item = getattr(value, "item", None)
    if item is not None and not isinstance(value, bool | int | float | str):
        value = item()
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)
