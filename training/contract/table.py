"""``ContractTable``: a table that satisfied its contract, with accessors by role."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from training.contract.schema import Contract, Role


@dataclass(frozen=True, eq=False)
class ContractTable:
    """A clean frame holding only the contracted columns, and the contract it satisfied.

    Dtypes: float -> float64; integer -> int64 (float64 when nullable); boolean -> int8 0/1
    (float64 0/1/NaN when nullable); categorical -> ``category`` with text categories (the
    declared ``values`` in order, else the sorted observed values); string -> ``str``. The
    label is int8 0/1 under the contract's label column name. The index is 0..n-1, so row
    ``i`` of an error message is ``frame.iloc[i - 1]``. Treat the frame as read-only: the
    fingerprint is computed once.
    """

    frame: pd.DataFrame
    contract: Contract
    source: str = "DataFrame"

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def ids(self) -> pd.Series:
        return self.frame[self.contract.roles.id]

    @property
    def label(self) -> pd.Series:
        """0/1 (int8): 1 = the positive class (churned at renewal)."""
        return self.frame[self.contract.roles.label]

    @property
    def features(self) -> pd.DataFrame:
        """The feature columns only, in declared order."""
        return self.frame[self.contract.feature_columns]

    @property
    def numeric_features(self) -> list[str]:
        """Float, integer and boolean (0/1) features, in declared order."""
        return self.contract.numeric_features

    @property
    def categorical_features(self) -> list[str]:
        return self.contract.categorical_features

    def column_for(self, role: Role) -> str | None:
        """The column holding ``role`` (e.g. ``"premium"``), or ``None`` if not mapped."""
        return self.contract.column_for(role)

    def has_role(self, role: Role) -> bool:
        return self.contract.column_for(role) is not None

    @cached_property
    def fingerprint(self) -> str:
        """sha256 of column names, dtypes and cell values; the same data gives the same hash."""
        digest = hashlib.sha256()
        layout = [[str(name), str(dtype)] for name, dtype in self.frame.dtypes.items()]
        digest.update(json.dumps(layout).encode())
        rows = pd.util.hash_pandas_object(self.frame, index=False)
        digest.update(rows.to_numpy().tobytes())
        return digest.hexdigest()
