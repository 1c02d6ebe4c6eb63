"""The rule layer: business-owned YAML rules, checked at load and compiled for fast evaluation.

A rule file (the demo insurer's is ``rules/retention.yaml``) holds, at the top level:

``version`` (1), ``name``, ``description``
``context``
    ``channels``, ``intents``, ``events``: the values the request context may take.
``fields``
    customer fields expressions may use: ``name: number | bool | string | [enum values]``.
    Scores (``p_churn clv margin uplift cost``), renewal prices (``current_premium
    proposed_premium new_business_premium p_churn_at_proposed p_churn_at_current``) and the
    context (``channel intent event``) are built in (``namespace``).
``actions``
    each: ``id``, ``group``, ``kind`` (discount price bundle service payment reward message
    none), ``description``, ``reason``, ``parameters``, ``cost`` (formula), ``channels``,
    ``events``, ``valid_from``/``valid_until`` (dates, inclusive), ``eligibility``
    (condition), ``script`` (template, ``templates``), ``caps.per_customer`` (max_offers,
    window_days) and ``caps.total`` (max_offers, period), ``budget``, ``lever_weight``.
``guardrails``
    suitability checks: ``id``, ``require`` (condition), ``applies_to`` (groups, actions),
    ``reason``.
``arbitration``
    ``formula`` (default ``uplift * clv - cost``), ``min_score``, ``top_k``,
    ``lever_weights`` (per group), ``context_weights`` (``id``, ``when``, ``weight``,
    ``applies_to``, ``reason``), ``allocation``: how a batch run shares out budgets that
    cannot pay for every offer, ``expected_value`` (default), ``value_per_cost`` or
    ``shadow_price`` (``engine.decision.allocation``).
``contact_policy``
    ``max_offers`` per ``window_days``, ``cooldown_after_decline_days``.
``budgets``
    ``name``, ``amount``, ``period`` (day week month quarter year campaign), optional
    ``min_value_per_cost`` (>= 0): the budget's shadow price; an action charged to it is
    offered only when its expected net value exceeds this times its cost, and scored net
    of this times its cost (``rules simulate`` reports the price a book implies).
``control_group``
    ``share`` in [0, 1] and ``salt``: blake2b of salt and customer id.
``fallback``
    the action offered when nothing else qualifies (if its own checks pass).
``price_policies``
    renewal rules: ``id``, ``when``, ``max_change_pct``, ``max_premium``, ``min_premium``,
    ``review``, ``offer``, ``reason``.
``pricing``
    the renewal check's value search (optional; absent: the defaults of ``PriceSearch``):
    ``changes_pct`` (candidate premiums as changes over the current premium, in percent,
    each in [-50, 100]), ``max_above_proposed_pct`` (how far above the proposed premium a
    recommendation may go; null: no limit), ``tolerance_pct`` and ``tolerance_amount`` (the
    proposed premium is approved within the larger of the two of the best expected value).

Unknown keys, duplicate ids, dangling references, bad ranges and expressions that do not
check are all refused, each with ``file:line:column`` (``RuleSetError.problems``).
"""

from .holder import ReloadResult, RuleSetHolder
from .loader import compile_rule_set, load_rule_set, read_rule_file
from .problems import Problem, RuleSetError
from .ruleset import (
    BudgetAllocation,
    BudgetRule,
    CompiledAction,
    CompiledContextWeight,
    CompiledGuardrail,
    CompiledPricePolicy,
    ContactPolicyRule,
    ControlGroupRule,
    CustomerCap,
    PriceSearch,
    RuleSet,
    TotalCap,
)
from .templates import ScriptTemplate

__all__ = [
    "BudgetAllocation",
    "BudgetRule",
    "CompiledAction",
    "CompiledContextWeight",
    "CompiledGuardrail",
    "CompiledPricePolicy",
    "ContactPolicyRule",
    "ControlGroupRule",
    "CustomerCap",
    "PriceSearch",
    "Problem",
    "ReloadResult",
    "RuleSet",
    "RuleSetError",
    "RuleSetHolder",
    "ScriptTemplate",
    "TotalCap",
    "compile_rule_set",
    "load_rule_set",
    "read_rule_file",
]
