"""The renewal check of one policy: verdict, recommended premium, churn and value at each.

The request's premiums override the stored ones (``annual_premium`` = current,
``proposed_premium`` = proposed, ``new_business_premium``), so the model scores the
customer at the price asked about. Lifetime value is taken at current terms: the core
corrects it for the coming year's price change. A retention action that goes with the
verdict is reserved like any offer (caps, budget); refused, it is dropped with a reason.
"""

from __future__ import annotations

import math
import uuid
from typing import TYPE_CHECKING, Any

from engine.decision import Context, RenewalPrices, Scores, check_renewal
from engine.service import answers
from engine.service.contacts import without_counters
from engine.service.inputs import RenewalInput, digest, look_up
from engine.service.scoring import Scorer, check_inline, value_of

if TYPE_CHECKING:
    from engine.service.pipeline import DecisionService, Live, Prepared


def renewal_key(live: Live, request: RenewalInput, group: str | None) -> str:
    return "|".join(
        (
            "renewal", str(group), str(request.intent), str(request.event),
            repr(request.current_premium), repr(request.proposed_premium),
            repr(request.new_business_premium),
            digest(request.features) if request.features else "-",
            live.rules.hash[:16], live.model_version,
        )
    )  # fmt: skip


async def prepare_renewal(
    service: DecisionService, live: Live, request: RenewalInput, group: str | None, key: str
) -> Prepared:
    from engine.service.pipeline import Prepared

    read = await service.read_customer(live, request.customer_id)
    found = look_up(read.features, request.customer_id, request.features)
    base: dict[str, Any] = {
        "decision_id": uuid.uuid4().hex,
        "customer_id": request.customer_id,
        "created_at": live.now.isoformat(),
        "current_premium": request.current_premium,
        "proposed_premium": request.proposed_premium,
        "new_business_premium": request.new_business_premium,
    }
    log_request = {
        "customer_id": request.customer_id, "channel": request.channel,
        "context": {"intent": request.intent, "event": request.event},
        "current_premium": request.current_premium,
        "proposed_premium": request.proposed_premium,
        "new_business_premium": request.new_business_premium,
        "features": dict(request.features),
    }  # fmt: skip
    if found.record is None or live.model is None:
        why = list(found.degraded)
        if live.model is None:
            why.append(f"no model loaded: {service.models.last_error}")
        answer = {
            **base, **_review_without_data(request, live.model is None), "degraded": True,
            "degraded_reasons": why, "versions": live.versions, "reused": False,
        }  # fmt: skip
        logged = service.log_record(live, answer, log_request, digest(log_request), "renewal")
        return Prepared(answer, logged, None, None)
    if request.features:
        check_inline(request.features, live.model)
    record = found.record
    spec = live.model.bundle.features
    for column, value in (
        (spec.premium, request.current_premium),
        (spec.proposed_premium, request.proposed_premium),
        (spec.new_business_premium, request.new_business_premium),
    ):
        if column is not None and value is not None:
            record[column] = value
    new_business = request.new_business_premium
    if new_business is None and spec.new_business_premium is not None:
        stored = record.get(spec.new_business_premium)
        new_business = float(stored) if isinstance(stored, int | float) else None
    inputs = digest(record)
    churn, codes = service.scorer.score(live.model, record, inputs)
    margin, clv = value_of(live.model, record, renewal=False)
    scores = Scores(churn.p_churn, clv, margin, churn.uplift)
    degraded = list(found.degraded)
    history, counters_up = service.history(read)
    prices = RenewalPrices(
        request.current_premium,
        request.proposed_premium,
        math.nan if new_business is None else new_business,
    )
    context = Context(now=live.now, channel=group, intent=request.intent, event=request.event)
    verdict = check_renewal(
        live.rules, request.customer_id, record, scores, prices,
        Scorer.price_response(live.model, record), context, history,
    )  # fmt: skip
    offers = () if verdict.action is None else (verdict.action,)
    reserved = await service.reserve(live, request.customer_id, offers, counters_up)
    if reserved is None:
        degraded.append("counter store unavailable: budgeted actions withheld")
        reserved = without_counters(offers, live.rules)
    action = (
        answers.action(reserved.candidates[0], reserved=reserved.reservation is not None)
        if reserved.candidates
        else None
    )
    answer = {
        **base,
        "verdict": verdict.verdict,
        "recommended_premium": answers.number(verdict.recommended_premium, 2),
        "at_proposed": {
            "premium": request.proposed_premium,
            "churn_probability": answers.number(verdict.p_churn_at_proposed, 4),
            "expected_value": answers.number(verdict.expected_value_at_proposed, 2),
        },
        "at_recommended": {
            "premium": answers.number(verdict.recommended_premium, 2),
            "churn_probability": answers.number(verdict.p_churn_at_recommended, 4),
            "expected_value": answers.number(verdict.expected_value_at_recommended, 2),
        },
        "action": action,
        "policies": list(verdict.policies),
        "reasons": answers.reasons((*verdict.reasons, *reserved.reasons)),
        "scores": answers.scores(scores.p_churn, scores.margin, scores.clv, codes),
        "control_group": verdict.control_group,
        "degraded": bool(degraded),
        "degraded_reasons": sorted(set(degraded)),
        "versions": live.versions,
        "reused": False,
    }
    log_record = service.log_record(live, answer, log_request, inputs, "renewal")
    return Prepared(answer, log_record, reserved, None if degraded else key)


def _review_without_data(request: RenewalInput, no_model: bool = False) -> dict[str, Any]:
    """Feature store down and no inline features, or no model loaded: a person decides."""
    text = (
        "no model loaded: the renewal needs a review"
        if no_model
        else "no customer data (feature store unavailable): the renewal needs a review"
    )
    unknown = {"premium": None, "churn_probability": None, "expected_value": None}
    return {
        "verdict": "review",
        "recommended_premium": request.proposed_premium,
        "at_proposed": {**unknown, "premium": request.proposed_premium},
        "at_recommended": {**unknown, "premium": request.proposed_premium},
        "action": None,
        "policies": [],
        "reasons": [{"code": "review", "rule": None, "text": text}],
        "scores": None,
        "control_group": False,
    }
