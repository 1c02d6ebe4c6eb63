"""``decide``: ranked next-best actions for one customer, from rules, scores and context.

Steps 3–5 of the decision pipeline (DESIGN.md) without any I/O:

1. every action is checked in ``Check`` order: validity dates, channel, event, contact
   policy, per-customer frequency cap, uplift present, eligibility, guardrails, cost;
2. value: expected value = uplift × clv − cost, score = formula × lever weights × context
   weights; doing nothing is worth 0, so an action is offered only if its expected value
   is > 0 and its score > ``min_score``. When the action's budget declares a shadow price
   λ (``min_value_per_cost``), its expected value must also exceed λ × cost, and its score
   is (formula − λ × cost) × weights: each unit of a scarce budget costs 1 + λ, so a
   stream of first-come decisions spends it as the batch allocation ``shadow_price``
   would (value per unit of cost above the budget's marginal value);
3. the offered actions are ranked by score (ties: file order) and cut to top-K;
4. a customer in the control group gets nothing (what they would have got is kept in
   ``held_back``); otherwise, when nothing qualifies, the fallback action is offered if it
   passes every check but value.

Budgets and total caps are not applied here: they need atomic counters, so the caller
reserves them for the candidates in order and takes the first that succeeds.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.rules import RuleSet

from .codes import Check
from .control import in_control_group
from .evaluate_row import RowEvaluation, customer_row, evaluate_row
from .explain import candidate, decision_reasons, fallback_reason, offer_without_value, rejections
from .inputs import NO_HISTORY, ContactHistory, Context, Scores
from .result import Candidate, Decision


def decide(
    rules: RuleSet,
    customer_id: str,
    features: Mapping[str, object],
    scores: Scores,
    context: Context,
    history: ContactHistory | None = None,
) -> Decision:
    """The decision for one customer; ``history`` None means no recorded contacts."""
    row = customer_row(features, scores, context)
    return decide_row(rules, customer_id, row, scores.uplift, context, history or NO_HISTORY)


def decide_row(
    rules: RuleSet,
    customer_id: str,
    row: dict[str, object],
    uplifts: Mapping[str, float],
    context: Context,
    history: ContactHistory,
) -> Decision:
    """``decide`` for a row already holding features, scores and context (reused in place)."""
    return decide_evaluated(rules, customer_id, row, uplifts, context, history)[0]


def decide_evaluated(
    rules: RuleSet,
    customer_id: str,
    row: dict[str, object],
    uplifts: Mapping[str, float],
    context: Context,
    history: ContactHistory,
) -> tuple[Decision, RowEvaluation]:
    evaluation = evaluate_row(rules, row, uplifts, context, history)
    checks, score = evaluation.checks, evaluation.score
    ranked = sorted(
        (i for i, check in enumerate(checks) if check == Check.OFFERED),
        key=lambda i: (-score[i], i),
    )
    for i in ranked[rules.top_k :]:
        checks[i] = Check.RANKED_OUT
    top: list[Candidate] = []
    for i in ranked[: rules.top_k]:
        numbers = (evaluation.uplift[i], evaluation.cost[i], evaluation.value[i], score[i])
        top.append(candidate(rules, rules.actions[i], row, numbers, evaluation.fired))
    control = in_control_group(customer_id, rules.control_group)
    fallback = rules.fallback
    fallback_used = False
    if not top and not control and fallback is not None:
        offer = offer_without_value(
            rules, fallback, row, uplifts, evaluation, history, context, fallback_reason(fallback)
        )
        if offer is not None:
            top.append(offer)
            fallback_used = True
    decision = Decision(
        customer_id=customer_id,
        candidates=() if control else tuple(top),
        control_group=control,
        fallback_used=fallback_used,
        rule_set_hash=rules.hash,
        reasons=decision_reasons(
            rules,
            control=control,
            contact=evaluation.contact,
            fallback=fallback if fallback_used else None,
            empty=not top,
        ),
        rejected=rejections(rules, checks, evaluation.failed_guardrail),
        held_back=tuple(top) if control else (),
    )
    return decision, evaluation
