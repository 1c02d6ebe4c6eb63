"""``retention outcomes export``: decisions left-joined to outcomes, as CSV or Parquet.

One row per (decision, action with an outcome), or one row with empty outcome columns for
a decision nobody reported on yet: those are the ``no_response`` candidates of training.
``request`` and ``response`` are written as JSON text. The file is written to a temporary
name and renamed, so a reader never sees half an export.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from engine.errors import ConfigError
from engine.stores.decision_log_schema import decisions, outcomes, utc
from engine.stores.errors import DecisionLogUnavailable


def export_joined(engine: Engine, path: Path) -> int:
    """Write the joined log to ``path`` (.csv or .parquet); returns the number of rows."""
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ConfigError(f"export {path}: unknown extension {suffix!r}; use .parquet or .csv")
    query = (
        select(
            *decisions.c,
            outcomes.c.action_id,
            outcomes.c.outcome,
            outcomes.c.at.label("outcome_at"),
        )
        .select_from(decisions.outerjoin(outcomes))
        .order_by(decisions.c.created_at, decisions.c.decision_id, outcomes.c.action_id)
    )
    try:
        with engine.connect() as connection:
            rows = [dict(r._mapping) for r in connection.execute(query)]
    except SQLAlchemyError as exc:
        raise DecisionLogUnavailable(f"decision log export: {type(exc).__name__}") from exc
    for row in rows:
        row["request"] = json.dumps(row["request"], sort_keys=True)
        row["response"] = json.dumps(row["response"], sort_keys=True)
        row["created_at"] = utc(row["created_at"])
        if row["outcome_at"] is not None:
            row["outcome_at"] = utc(row["outcome_at"])
    columns = [*decisions.c.keys(), "action_id", "outcome", "outcome_at"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["outcome_at"] = pd.to_datetime(frame["outcome_at"], utc=True)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        if suffix == ".csv":
            frame.to_csv(partial, index=False)
        else:
            frame.to_parquet(partial, index=False)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return len(frame)
