"""Outcomes: what the customer did with an offer, recorded once, fed back to the counters.

Recording is idempotent per (decision, action): the same outcome again returns the stored
record (status 200 both times), a different one is a conflict (409). A decline starts the
customer's cool-down in the counter store; any outcome forgets the customer's consistent
answers, so the next request decides afresh.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from engine.service.consistency import AnswerCache
from engine.service.errors import InvalidRequest
from engine.stores.decision_log_schema import OutcomeKind
from engine.stores.errors import CounterStoreUnavailable, DecisionNotFound
from engine.stores.factory import Stores

logger = logging.getLogger(__name__)


def offered_actions(response: dict[str, Any]) -> set[str]:
    actions = list(response.get("actions") or [])
    if response.get("action"):
        actions.append(response["action"])
    return {str(a["id"]) for a in actions}


async def record_outcome(
    stores: Stores,
    answer_cache: AnswerCache,
    decision_id: str,
    action_id: str,
    outcome: OutcomeKind,
    at: datetime | None,
) -> dict[str, Any]:
    log = stores.decisions
    decision = await asyncio.to_thread(log.get, decision_id)
    if decision is None:
        raise DecisionNotFound(f"no decision {decision_id!r} in the decision log")
    if action_id not in offered_actions(decision.response):
        offered = ", ".join(sorted(offered_actions(decision.response))) or "none"
        raise InvalidRequest(
            f"action_id: {action_id!r} was not offered in decision {decision_id} "
            f"(offered: {offered})",
            field="action_id",
        )
    if at is None:
        moment = datetime.now(UTC)
    else:
        moment = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    stored = await asyncio.to_thread(log.record_outcome, decision_id, action_id, outcome, moment)
    degraded = False
    try:
        stores.counters.record_outcome(
            decision.customer_id, action_id, stored.outcome, stored.at.timestamp()
        )
        answer_cache.forget(decision.customer_id)
    except CounterStoreUnavailable as error:
        degraded = True
        logger.warning("outcome of decision %s: %s", decision_id, error.message)
    return {
        "decision_id": stored.decision_id,
        "action_id": stored.action_id,
        "outcome": stored.outcome,
        "at": stored.at.isoformat(),
        "degraded": degraded,
    }
