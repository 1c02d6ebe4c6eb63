"""Tables of the decision log and the records that travel in and out of them.

``decisions`` holds one row per answer the service gave (written before it is returned);
``outcomes`` one row per (decision, action) once the caller reports what happened. Their
join is the training data of the next model. Times are stored in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
)

DecisionKind = Literal["decision", "renewal"]
OutcomeKind = Literal["accepted", "declined", "no_response"]
OUTCOMES: tuple[OutcomeKind, ...] = ("accepted", "declined", "no_response")

metadata = MetaData()

decisions = Table(
    "decisions",
    metadata,
    Column("decision_id", String(64), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("inputs_digest", String(64), nullable=False),
    Column("request", JSON, nullable=False),
    Column("response", JSON, nullable=False),
    Column("model_version", String(128), nullable=False),
    Column("ruleset_hash", String(64), nullable=False),
    Column("control_group", Boolean, nullable=False),
    Column("degraded", Boolean, nullable=False),
    Index("ix_decisions_customer_created", "customer_id", "created_at"),
    Index("ix_decisions_created", "created_at"),
)

outcomes = Table(
    "outcomes",
    metadata,
    Column(
        "decision_id",
        String(64),
        ForeignKey("decisions.decision_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("action_id", String(128), primary_key=True),
    Column("outcome", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)


def utc(moment: datetime) -> datetime:
    """Aware UTC; SQLite hands back naive datetimes, which we wrote as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One logged decision; ``request`` and ``response`` must be JSON-serialisable."""

    decision_id: str
    created_at: datetime
    customer_id: str
    channel: str
    kind: DecisionKind
    inputs_digest: str
    request: dict[str, Any]
    response: dict[str, Any]
    model_version: str
    ruleset_hash: str
    control_group: bool
    degraded: bool

    def row(self) -> dict[str, Any]:
        return {
            name: (utc(value) if name == "created_at" else value)
            for name in self.__slots__
            for value in (getattr(self, name),)
        }

    @classmethod
    def from_row(cls, row: Any) -> DecisionRecord:
        values = dict(row._mapping)
        values["created_at"] = utc(values["created_at"])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    """What happened to one action of one decision."""

    decision_id: str
    action_id: str
    outcome: OutcomeKind
    at: datetime

    @classmethod
    def from_row(cls, row: Any) -> OutcomeRecord:
        values = dict(row._mapping)
        values["at"] = utc(values["at"])
        return cls(**values)
