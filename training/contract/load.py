"""Reading contracts (YAML) and tables (CSV, Parquet) from files.

Every failure is a ``DataContractError`` naming the file -- ``ContractDefinitionError`` when
the contract itself is at fault -- never a YAML, pydantic or pandas traceback.
"""

from __future__ import annotations

import csv
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml
from pyarrow import ArrowException
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from engine.errors import ContractDefinitionError, DataContractError
from training.contract.problems import did_you_mean
from training.contract.schema import (
    SINGLE_ROLES,
    BooleanColumn,
    CategoricalColumn,
    Contract,
    FloatColumn,
    Roles,
    TreatmentRole,
)
from training.contract.table import ContractTable
from training.contract.validate import check_frame

CONTRACTS_DIR = Path(__file__).resolve().parent.parent / "contracts"
"""Where the contracts shipped with the package live (``insurance_book.yaml``)."""

TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}

_KNOWN_KEYS = sorted(
    {
        *Contract.model_fields,
        *Roles.model_fields,
        *TreatmentRole.model_fields,
        *FloatColumn.model_fields,
        *BooleanColumn.model_fields,
        *CategoricalColumn.model_fields,
    }
)
_READ_ERRORS = (OSError, ValueError, TypeError, NotImplementedError, csv.Error, ArrowException)


def load_contract(path: str | Path) -> Contract:
    """Read and check a YAML contract file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractDefinitionError(f"{path}: cannot read the contract file: {exc}") from exc
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f", line {mark.line + 1}, column {mark.column + 1}"
        reason = getattr(exc, "problem", None) or str(exc)
        raise ContractDefinitionError(f"{path}{where}: malformed YAML: {reason}") from exc
    if not isinstance(data, dict):
        raise ContractDefinitionError(
            f"{path}: a contract is a YAML mapping with the keys name, columns and roles"
        )
    return parse_contract(data, source=str(path))


def parse_contract(data: Mapping[str, Any], *, source: str = "contract") -> Contract:
    """``Contract.model_validate`` with errors as one ``ContractDefinitionError``, a line each.

    (``Contract.model_validate`` itself works too, but raises pydantic's ``ValidationError``.)
    """
    try:
        return Contract.model_validate(data)
    except ValidationError as exc:
        lines = [line for error in exc.errors() for line in _describe(error, data)]
        column = next((c for c in (_column_of(e["loc"]) for e in exc.errors()) if c), None)
        count = len(lines)
        head = f"{source}: the contract is malformed ({count} problem{'s' if count > 1 else ''})"
        message = "\n".join([head, *(f"  - {line}" for line in lines)])
        raise ContractDefinitionError(message, column=column) from exc


def load_table(path: str | Path, contract: Contract) -> ContractTable:
    """Read a CSV or Parquet file and check it against ``contract`` (see ``validate_frame``).

    CSV cells are read as text and converted by the contract, so a bad cell is reported with
    its row (1-based data row) and file line (row + 1), never guessed by pandas.
    """
    path = Path(path)
    kind = TABLE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        known = ", ".join(TABLE_SUFFIXES)
        raise DataContractError(
            f"{path}: unknown file extension {path.suffix!r}; a table must be one of {known}"
        )
    if not path.is_file():
        reason = "is a directory, not a file" if path.is_dir() else "no such file"
        raise DataContractError(f"{path}: cannot read the table: {reason}")
    wanted = set(contract.used_columns())
    try:
        frame = _read_csv(path, wanted) if kind == "csv" else _read_parquet(path, wanted)
    except _READ_ERRORS as exc:
        raise DataContractError(f"{path}: cannot read the table as {kind}: {exc}") from exc
    if len(frame) == 0:
        raise DataContractError(f"{path}: the table has no data rows")
    header_lines = 1 if kind == "csv" else None
    return check_frame(frame, contract, source=str(path), header_lines=header_lines)


def _read_csv(path: Path, wanted: set[str]) -> pd.DataFrame:
    """Every cell as text ("" when empty); blank lines are skipped."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), None)
    if header is None:
        raise ValueError("the file is empty (no header line)")
    # Read by position under made-up names, so a column named twice stays twice.
    names = [f"column_{i}" for i in range(len(header))]
    keep = [i for i, name in enumerate(header) if name in wanted]
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            include_columns=[names[i] for i in keep] or names[:1],  # [] would mean all
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    frame: pd.DataFrame = table.select([names[i] for i in keep]).to_pandas()
    frame.columns = pd.Index([header[i] for i in keep])
    return frame


def _read_parquet(path: Path, wanted: set[str]) -> pd.DataFrame:
    names = [name for name in pq.read_schema(path).names if name in wanted]
    if not names:  # keep the row count, so the message is about the absent columns
        return pd.DataFrame(index=pd.RangeIndex(pq.read_metadata(path).num_rows))
    return pd.read_parquet(path, columns=list(dict.fromkeys(names)))


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a key written twice in one mapping (PyYAML keeps the last)."""


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Hashable] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if isinstance(key, Hashable) and key != "<<":
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is written twice", key_node.start_mark
                )
            seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def _describe(error: ErrorDetails, data: Mapping[str, Any]) -> list[str]:
    """Pydantic's error as lines ``key.path: what is wrong``."""
    loc, kind = error["loc"], error["type"]
    path = _path(loc, data)
    ctx = error.get("ctx") or {}
    if kind == "value_error" and "error" in ctx:
        message = str(ctx["error"])
        if not path:  # contract-level checks already start each line with its key
            return message.splitlines()
        return [f"{path}: {line}" for line in message.splitlines()]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        if len(loc) == 2 and loc[0] == "roles":
            roles = ", ".join(["features", *SINGLE_ROLES])
            hint = did_you_mean(key, ["features", *SINGLE_ROLES])
            return [f"{path}: unknown role {key!r}{hint}; roles are {roles}"]
        return [f"{path}: unknown key {key!r}{did_you_mean(key, _KNOWN_KEYS)}"]
    if kind == "missing":
        what = "role" if len(loc) == 2 and loc[0] == "roles" else "key"
        return [f"{path}: missing required {what} {str(loc[-1])!r}"]
    if kind == "union_tag_not_found":
        return [f"{path}: missing key 'kind' (float, integer, boolean, categorical or string)"]
    message = error["msg"]
    if kind == "string_type" and isinstance(error.get("input"), bool):
        message += " (YAML reads unquoted yes/no/true/false/on/off as booleans: quote it)"
    return [f"{path or '(top level)'}: {message}"]


def _path(loc: tuple[int | str, ...], data: Any) -> str:
    """``columns.age.max`` from pydantic's loc, without the union tag it inserts (``float``)."""
    text = ""
    node = data
    for item in loc:
        if isinstance(node, Mapping) and item not in node and node.get("kind") == item:
            continue
        text += f"[{item}]" if isinstance(item, int) else (f".{item}" if text else str(item))
        if isinstance(node, Mapping):
            node = node.get(item)
        elif isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node):
            node = node[item]
        else:
            node = None
    return text


def _column_of(loc: tuple[int | str, ...]) -> str | None:
    return str(loc[1]) if len(loc) >= 2 and loc[0] == "columns" else None
