"""The pure decision core: features in, ranked actions out.

Nothing here performs I/O. Stores, models and rule sets are passed in by the caller;
an import contract (see pyproject.toml) keeps web frameworks, Redis and SQL clients out.

Per customer: ``decide`` (next-best actions) and ``check_renewal`` (renewal verdict).
Vectorised over a DataFrame, with the same answers: ``decide_frame`` and ``check_renewals``.
Batch budgets: ``allocate_budgets`` (greedy by expected value, value per cost or the
budgets' shadow prices; never overspends, respects total caps) and
``budget_shadow_prices``, the price an online decision can use to spend a budget alike.
"""

from .allocation import (
    Allocation,
    ShadowPrices,
    allocate,
    allocate_budgets,
    budget_shadow_prices,
    shadow_prices,
)
from .batch import BatchDecisions, decide_frame
from .codes import Check
from .control import control_group_mask, control_position, in_control_group
from .decide import decide
from .frame_inputs import ACTION_OFFERS_PREFIX, LAST_DECLINE_AT, OFFERS_IN_WINDOW, UPLIFT_PREFIX
from .inputs import (
    ContactHistory,
    ContactSnapshot,
    Context,
    OfferRecord,
    PriceResponse,
    RenewalPrices,
    Scores,
)
from .renewal import check_renewal
from .renewal_batch import RenewalBatch, check_renewals
from .result import Candidate, Decision, Reason, Rejection, RenewalVerdict, Verdict

__all__ = [
    "ACTION_OFFERS_PREFIX",
    "LAST_DECLINE_AT",
    "OFFERS_IN_WINDOW",
    "UPLIFT_PREFIX",
    "Allocation",
    "BatchDecisions",
    "Candidate",
    "Check",
    "ContactHistory",
    "ContactSnapshot",
    "Context",
    "Decision",
    "OfferRecord",
    "PriceResponse",
    "Reason",
    "Rejection",
    "RenewalBatch",
    "RenewalPrices",
    "RenewalVerdict",
    "Scores",
    "ShadowPrices",
    "Verdict",
    "allocate",
    "allocate_budgets",
    "budget_shadow_prices",
    "check_renewal",
    "check_renewals",
    "control_group_mask",
    "control_position",
    "decide",
    "decide_frame",
    "in_control_group",
    "shadow_prices",
]
