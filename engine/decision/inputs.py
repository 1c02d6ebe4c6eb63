"""What the caller hands the decision core: context, scores, prices and contact history.

All of it is plain data or a narrow read-only interface. The core never fetches anything:
the service reads the feature store, the model bundle and the counter store, and passes
the results in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np
import numpy.typing as npt

Numbers = npt.NDArray[np.float64]

PriceResponse = Callable[[Numbers], Numbers]
"""Churn probability at given premiums, no action.

For one customer (``check_renewal``): premiums of that customer in, one probability per
premium out. For a batch (``check_renewals``): one premium per row in, one probability per
row out, row ``i`` for customer ``i``.
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """The request: when, through which channel, why (intent) and on what occasion (event)."""

    now: datetime
    """Decision time, compared with contact history and (as a UTC date) with action validity
    dates. Naive datetimes are read as UTC."""
    channel: str | None = None
    intent: str | None = None
    event: str | None = None


@dataclass(frozen=True, slots=True)
class Scores:
    """Model outputs for one customer; NaN (or an absent uplift) is a missing score."""

    p_churn: float
    clv: float
    margin: float
    uplift: Mapping[str, float] = field(default_factory=dict)
    """Per action id: how much the action lowers the churn probability (may be negative)."""


@dataclass(frozen=True, slots=True)
class RenewalPrices:
    current_premium: float
    proposed_premium: float
    new_business_premium: float = math.nan


class ContactHistory(Protocol):
    """A read-only view of one customer's recent contacts (from the counter store)."""

    def offers_since(self, since: datetime, action_id: str | None = None) -> int:
        """Offers made to the customer at or after ``since`` (of ``action_id`` only, if given);
        ``since`` is a UTC datetime without a zone."""
        ...

    @property
    def last_decline_at(self) -> datetime | None:
        """When the customer last declined an offer; None if never (or forgotten)."""
        ...


@dataclass(frozen=True, slots=True)
class OfferRecord:
    action_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ContactSnapshot:
    """A ``ContactHistory`` held in memory: the offers made and the last decline."""

    offers: tuple[OfferRecord, ...] = ()
    declined_at: datetime | None = None

    def offers_since(self, since: datetime, action_id: str | None = None) -> int:
        if not self.offers:
            return 0
        return sum(
            1
            for offer in self.offers
            if as_utc_naive(offer.at) >= since
            and (action_id is None or offer.action_id == action_id)
        )

    @property
    def last_decline_at(self) -> datetime | None:
        return self.declined_at


NO_HISTORY = ContactSnapshot()


def as_utc_naive(moment: datetime) -> datetime:
    """Comparable datetimes: aware ones converted to UTC, then all without a zone."""
    if moment.tzinfo is None:
        return moment
    offset = moment.utcoffset() or timedelta(0)
    return (moment - offset).replace(tzinfo=None)
