"""What a request hands the service, and the customer record it decides on."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.core.json_codec import dumps
from engine.errors import FeatureStoreUnavailable
from engine.service.errors import UnknownCustomer
from engine.stores.features import Features

Record = dict[str, object]


@dataclass(frozen=True, slots=True)
class DecisionInput:
    customer_id: str
    channel: str
    intent: str | None = None
    event: str | None = None
    features: Mapping[str, object] = field(default_factory=dict)
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class RenewalInput:
    customer_id: str
    current_premium: float
    proposed_premium: float
    new_business_premium: float | None = None
    channel: str | None = None
    intent: str | None = None
    event: str | None = "renewal_due"
    features: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Lookup:
    """The record to decide on (None: nothing known) and why it may be degraded."""

    record: Record | None
    degraded: tuple[str, ...]


def look_up(
    stored: Features | FeatureStoreUnavailable | None,
    customer_id: str,
    inline: Mapping[str, object],
) -> Lookup:
    """Stored features (as read, or the store's error) with inline ones on top; the store
    down falls back to the inline ones."""
    degraded: tuple[str, ...] = ()
    if isinstance(stored, FeatureStoreUnavailable):
        stored = None
        degraded = ("feature store unavailable: decided on the request's features only",)
    if stored is None and not inline:
        if degraded:
            return Lookup(None, ("feature store unavailable and no features in the request",))
        raise UnknownCustomer(
            f"unknown customer {customer_id!r}: not in the feature store and the request "
            "has no 'features'"
        )
    record: Record = dict(stored or {})
    record.update(inline)
    return Lookup(record, degraded)


def digest(values: Mapping[str, Any]) -> str:
    """sha256 of the values as canonical JSON (NaN written as null)."""
    clean = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in values.items()}
    return hashlib.sha256(dumps(clean, sort_keys=True, default=str)).hexdigest()
