"""``DecisionService``: one decision or renewal check, from request to durable answer.

Per request: the live rule set and model are read once (a reload mid-request does not mix
them); a consistent answer is reused when there is one; otherwise features are looked up,
scored, decided by the pure core, caps and budgets are reserved atomically, the answer is
claimed in the consistency store and written to the decision log *before* it is returned.
A failure after reserving gives the reservation back.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.decision import ContactSnapshot, Context, decide
from engine.errors import RetentionError
from engine.rules import RuleSet, RuleSetHolder
from engine.service import answers
from engine.service.channels import channel_group, known_channels
from engine.service.consistency import Answer, AnswerCache
from engine.service.contacts import (
    Reserved,
    history_window_s,
    reserve_first,
    snapshot,
    without_counters,
)
from engine.service.errors import InvalidRequest
from engine.service.inputs import DecisionInput, RenewalInput, digest, look_up
from engine.service.models import NO_MODEL, LiveModel, ModelHolder
from engine.service.renewals import prepare_renewal, renewal_key
from engine.service.scoring import Scorer, check_inline
from engine.stores.customer_read import CustomerRead
from engine.stores.decision_log_schema import DecisionKind, DecisionRecord
from engine.stores.errors import CounterStoreUnavailable
from engine.stores.factory import Stores


@dataclass(frozen=True, slots=True)
class Live:
    """What one request decides with: read once, at its start."""

    rules: RuleSet
    model: LiveModel | None  # None: no model has loaded yet (the fallback answers)
    now: datetime

    @property
    def model_version(self) -> str:
        return NO_MODEL if self.model is None else self.model.version

    @property
    def versions(self) -> dict[str, str]:
        return {"model": self.model_version, "rule_set": self.rules.hash}


@dataclass
class Prepared:
    """A computed answer, not yet claimed, logged or returned."""

    answer: Answer
    record: DecisionRecord
    reserved: Reserved | None
    cache_key: str | None


class DecisionService:
    def __init__(
        self,
        rules: RuleSetHolder,
        models: ModelHolder,
        stores: Stores,
        answer_cache: AnswerCache,
        *,
        consistency_window_s: float,
        scorer: Scorer | None = None,
    ) -> None:
        self.rules = rules
        self.models = models
        self.stores = stores
        self.answer_cache = answer_cache
        self.window_s = float(consistency_window_s)
        self.scorer = scorer or Scorer()

    def live(self) -> Live:
        return Live(self.rules.current, self.models.loaded, datetime.now(UTC))

    # -- checks shared by decisions and renewals -------------------------------------------

    @staticmethod
    def context_values(
        rules: RuleSet, channel: str | None, intent: str | None, event: str | None
    ) -> str | None:
        if intent is not None and intent not in rules.intents:
            raise InvalidRequest(
                f"context.intent: unknown intent {intent!r}; one of {', '.join(rules.intents)}",
                field="context.intent",
            )
        if event is not None and event not in rules.events:
            raise InvalidRequest(
                f"context.event: unknown event {event!r}; one of {', '.join(rules.events)}",
                field="context.event",
            )
        if channel is None:
            return None
        group = channel_group(channel, rules.channels)
        if group is None:
            raise InvalidRequest(
                f"channel: unknown channel {channel!r}; one of "
                f"{', '.join(known_channels(rules.channels))}",
                field="channel",
            )
        return group

    # -- next-best action ------------------------------------------------------------------

    async def decide(self, request: DecisionInput) -> Answer:
        live = self.live()
        group = self.context_values(live.rules, request.channel, request.intent, request.event)
        key = "|".join(
            (
                "decision", str(group), str(request.intent), str(request.event),
                str(request.limit), digest(request.features) if request.features else "-",
                live.rules.hash[:16], live.model_version,
            )
        )  # fmt: skip
        cached = await self._cached(request.customer_id, key)
        if cached is not None:
            return cached
        prepared = await self.prepare_decision(live, request, str(group), key)
        return await self.commit(prepared)

    async def prepare_decision(
        self, live: Live, request: DecisionInput, group: str, key: str
    ) -> Prepared:
        read = await self.read_customer(live, request.customer_id)
        found = look_up(read.features, request.customer_id, request.features)
        base: dict[str, Any] = {
            "decision_id": uuid.uuid4().hex,
            "customer_id": request.customer_id,
            "channel": request.channel,
            "channel_group": group,
            "created_at": live.now.isoformat(),
        }
        log_request = {
            "customer_id": request.customer_id, "channel": request.channel,
            "context": {"intent": request.intent, "event": request.event},
            "limit": request.limit, "features": dict(request.features),
        }  # fmt: skip
        if found.record is None:
            return self._fallback(live, base, log_request, found.degraded)
        if live.model is None:
            why = f"no model loaded: {self.models.last_error}"
            return self._fallback(live, base, log_request, (why,), "no model loaded")
        if request.features:
            check_inline(request.features, live.model)
        record = found.record
        inputs = digest(record)
        scores, codes = self.scorer.score(live.model, record, inputs)
        degraded = list(found.degraded)
        history, counters_up = self.history(read)
        if not counters_up:
            degraded.append("counter store unavailable: budgeted actions withheld")
        context = Context(now=live.now, channel=group, intent=request.intent, event=request.event)
        decision = decide(live.rules, request.customer_id, record, scores, context, history)
        reserved = await self.reserve(live, request.customer_id, decision.candidates, counters_up)
        if reserved is None:
            degraded.append("counter store unavailable: budgeted actions withheld")
            reserved = without_counters(decision.candidates, live.rules)
        kept = reserved.candidates[: request.limit] if request.limit else reserved.candidates
        actions = [
            answers.action(c, reserved=reserved.reservation is not None and i == 0)
            for i, c in enumerate(kept)
        ]
        answer = {
            **base,
            "actions": actions,
            "scores": answers.scores(scores.p_churn, scores.margin, scores.clv, codes),
            "reasons": answers.reasons((*decision.reasons, *reserved.reasons)) or [_NOTHING],
            "control_group": decision.control_group,
            "degraded": bool(degraded),
            "degraded_reasons": sorted(set(degraded)),
            "versions": live.versions,
            "reused": False,
        }
        return Prepared(
            answer,
            self.log_record(live, answer, log_request, inputs, "decision"),
            reserved,
            None if degraded else key,
        )

    def _fallback(
        self, live: Live, base: dict[str, Any], log_request: dict[str, Any],
        degraded: tuple[str, ...], missing: str = "no customer data",
    ) -> Prepared:  # fmt: skip
        fallback = live.rules.fallback
        answer = {
            **base,
            "actions": [] if fallback is None else [answers.fallback_action(fallback)],
            "scores": None,
            "reasons": [
                {
                    "code": "degraded",
                    "rule": None,
                    "text": f"{missing}: the declared fallback answer"
                    if fallback
                    else f"{missing}: nothing to offer",
                }
            ],
            "control_group": False,
            "degraded": True,
            "degraded_reasons": list(degraded),
            "versions": live.versions,
            "reused": False,
        }
        record = self.log_record(live, answer, log_request, digest(log_request), "decision")
        return Prepared(answer, record, None, None)

    # -- renewals ---------------------------------------------------------------------------

    async def _renewal(self, live: Live, request: RenewalInput) -> Prepared | Answer:
        """A computed renewal answer, or the consistent one from the window."""
        group = self.context_values(live.rules, request.channel, request.intent, request.event)
        key = renewal_key(live, request, group)
        cached = await self._cached(request.customer_id, key)
        if cached is not None:
            return cached
        return await prepare_renewal(self, live, request, group, key)

    async def check_renewal(self, request: RenewalInput) -> Answer:
        prepared = await self._renewal(self.live(), request)
        if isinstance(prepared, Prepared):
            return await self.commit(prepared)
        return prepared

    async def check_renewals(self, requests: list[RenewalInput]) -> list[Answer | RetentionError]:
        """One answer or error per item; the items' log writes share group commits."""
        live = self.live()
        results: list[Answer | RetentionError] = []
        pending: list[tuple[int, Prepared]] = []
        for request in requests:
            try:
                prepared = await self._renewal(live, request)
            except RetentionError as error:
                results.append(error)
                continue
            if isinstance(prepared, Prepared):
                pending.append((len(results), prepared))
            results.append(prepared if isinstance(prepared, dict) else prepared.answer)
        committed = await asyncio.gather(
            *(self.commit(p) for _, p in pending), return_exceptions=True
        )
        for (index, _), outcome in zip(pending, committed, strict=True):
            if isinstance(outcome, RetentionError):
                results[index] = outcome
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                results[index] = outcome
        return results

    # -- shared steps ----------------------------------------------------------------------

    async def _cached(self, customer_id: str, key: str) -> Answer | None:
        if self.window_s <= 0:
            return None
        try:
            found = await self.answer_cache.get(customer_id, key)
        except CounterStoreUnavailable:
            return None
        return None if found is None else {**found, "reused": True}

    async def read_customer(self, live: Live, customer_id: str) -> CustomerRead:
        """Stored features and contact history, in one round trip where the stores allow."""
        window_s = history_window_s(live.rules)
        return await self.stores.read_customer(customer_id, live.now.timestamp(), window_s)

    @staticmethod
    def history(read: CustomerRead) -> tuple[ContactSnapshot, bool]:
        """The customer's contact history for the core; False: the counter store is down."""
        if isinstance(read.history, CounterStoreUnavailable):
            return ContactSnapshot(), False
        return snapshot(read.history), True

    async def reserve(
        self, live: Live, customer_id: str, candidates: Any, counters_up: bool
    ) -> Reserved | None:
        if not counters_up:
            return None
        try:
            counters = self.stores.counters
            return await reserve_first(counters, live.rules, customer_id, candidates, live.now)
        except CounterStoreUnavailable:
            return None

    @staticmethod
    def log_record(
        live: Live, answer: Answer, request: dict[str, Any], inputs: str, kind: DecisionKind
    ) -> DecisionRecord:
        return DecisionRecord(
            decision_id=answer["decision_id"],
            created_at=live.now,
            customer_id=answer["customer_id"],
            channel=answer.get("channel") or "-",
            kind=kind,
            inputs_digest=inputs,
            request=request,
            response=answer,
            model_version=live.model_version,
            ruleset_hash=live.rules.hash,
            control_group=bool(answer["control_group"]),
            degraded=bool(answer["degraded"]),
        )

    async def commit(self, prepared: Prepared) -> Answer:
        """Claim the answer for the window, write it durably, then return it."""
        answer = prepared.answer
        customer_id = answer["customer_id"]
        if prepared.cache_key is not None and self.window_s > 0:
            try:
                kept = await self.answer_cache.put(
                    customer_id, prepared.cache_key, answer, self.window_s
                )
            except CounterStoreUnavailable:
                kept = answer
            if kept["decision_id"] != answer["decision_id"]:  # a concurrent twin won
                self._release(prepared)
                return {**kept, "reused": True}
        try:
            await self.stores.decisions.log_async(prepared.record)
        except BaseException:
            self._release(prepared)
            if prepared.cache_key is not None:
                self._forget(customer_id)
            raise
        return answer

    def _release(self, prepared: Prepared) -> None:
        reservation = None if prepared.reserved is None else prepared.reserved.reservation
        if reservation is not None:
            # Unreachable: it expires; budgets err on the side of underspending.
            with contextlib.suppress(CounterStoreUnavailable):
                self.stores.counters.release(reservation)

    def _forget(self, customer_id: str) -> None:
        with contextlib.suppress(CounterStoreUnavailable):
            self.answer_cache.forget(customer_id)


_NOTHING = {"code": "no_action", "rule": None, "text": "nothing to offer: do nothing"}
