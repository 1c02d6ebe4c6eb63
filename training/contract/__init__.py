"""The data contract: map any customer table's columns to roles, refuse bad data clearly.

    contract = load_contract(CONTRACTS_DIR / "insurance_book.yaml")
    table = load_table("book.parquet", contract)      # or validate_frame(frame, contract)
    X, y = table.features, table.label

Modules: ``schema`` (the pydantic contract: column kinds and roles), ``load`` (YAML contracts,
CSV/Parquet tables), ``validate`` (``validate_frame``), ``columns`` (one column's checks and
conversion), ``problems`` (how problems become one error), ``table`` (``ContractTable``).

Bad data raises ``engine.errors.DataContractError``: one line per problem, each naming the
column, the number of bad rows and up to 5 example rows -- 1-based data rows, header not
counted (CSV: plus the file line, row + 1). A malformed contract raises
``ContractDefinitionError`` naming the file and the key.
"""

from training.contract.load import (
    CONTRACTS_DIR,
    TABLE_SUFFIXES,
    load_contract,
    load_table,
    parse_contract,
)
from training.contract.schema import (
    TRUTH_PREFIX,
    BooleanColumn,
    CategoricalColumn,
    ColumnSpec,
    Contract,
    FloatColumn,
    IntegerColumn,
    Role,
    Roles,
    StringColumn,
    TreatmentRole,
)
from training.contract.table import ContractTable
from training.contract.validate import validate_frame

__all__ = [
    "CONTRACTS_DIR",
    "TABLE_SUFFIXES",
    "TRUTH_PREFIX",
    "BooleanColumn",
    "CategoricalColumn",
    "ColumnSpec",
    "Contract",
    "ContractTable",
    "FloatColumn",
    "IntegerColumn",
    "Role",
    "Roles",
    "StringColumn",
    "TreatmentRole",
    "load_contract",
    "load_table",
    "parse_contract",
    "validate_frame",
]
