"""``validate_frame``: check a DataFrame against a contract and return the clean table."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from training.contract.columns import convert_column
from training.contract.problems import Problem, contract_error, did_you_mean, rows_problem
from training.contract.schema import TRUTH_PREFIX, Contract
from training.contract.table import ContractTable


def validate_frame(
    frame: pd.DataFrame, contract: Contract, *, source: str = "DataFrame"
) -> ContractTable:
    """Check every contracted column of ``frame`` and return the clean table.

    Columns the contract does not name (and every ``truth_*`` column) are dropped. All problems
    are collected and raised together as one ``DataContractError``, one line each.
    """
    return check_frame(frame, contract, source=source, header_lines=None)


def check_frame(
    frame: pd.DataFrame,
    contract: Contract,
    *,
    source: str,
    header_lines: int | None,
) -> ContractTable:
    """``validate_frame`` for loaders: ``header_lines`` turns rows into file lines in messages."""
    problems: list[Problem] = []
    counts = Counter(frame.columns)
    wanted = contract.used_columns()
    absent = [c for c in wanted if c not in counts]
    if absent:
        others = [str(c) for c in frame.columns if not str(c).startswith(TRUTH_PREFIX)]
        listed = ", ".join(f"{c!r}{did_you_mean(c, others)}" for c in absent)
        what = f"required by the contract but absent from the table: {listed}"
        problems.append(
            Problem(absent[0], f"column{'s' if len(absent) > 1 else ''} {what}", prefixed=False)
        )
    clean: dict[str, pd.Series] = {}
    for name in wanted:
        if name in absent:
            continue
        if counts[name] > 1:
            problems.append(Problem(name, f"appears {counts[name]} times in the table"))
            continue
        raw = frame[name].reset_index(drop=True)
        series, found = convert_column(
            name,
            raw,
            contract.columns[name],
            nullable=contract.allows_missing(name),
            missing_values=contract.missing_values,
        )
        problems.extend(found)
        if not found:
            clean[name] = series
    id_column = contract.roles.id
    if id_column in clean:
        ids = clean[id_column]
        repeated = ids.duplicated(keep=False).to_numpy(dtype=bool) & ids.notna().to_numpy()
        duplicate = rows_problem(id_column, "an id that is not unique", repeated, ids)
        if duplicate is not None:
            problems.append(duplicate)
    if problems:
        raise contract_error(
            problems, source=source, contract=contract.name, header_lines=header_lines
        )
    out = pd.DataFrame(clean, index=pd.RangeIndex(len(frame)))
    return ContractTable(frame=out, contract=contract, source=source)
