"""What a rule set would do to a whole book, and what it would really earn.

``simulate`` scores a customer book with a model bundle, runs the rule set over it
vectorised (``engine.decision.decide_frame``), allocates the rule set's budgets
(``allocate_budgets``, as its ``arbitration.allocation`` says) and compares the result with
baselines. The report also gives each budget's shadow price on this book (``shadow_prices``,
``engine.decision.budget_shadow_prices``): the ``min_value_per_cost`` that makes live
decisions spend the budget as the priced allocation does. When the
book comes from the synthetic generator (it carries ``truth_`` columns) every policy is also
valued with the generator's ground truth. ``diff_rule_sets`` compares two rule sets on the
same scored book. Evaluating against the truth is this package's job; nothing here fits a
model.

How the money is defined
========================

The run is one renewal campaign: every budget and every total cap of the rule set is
available once, in full, whatever its period. One customer gets at most one action.

*Booked cost* of an action: the rule set's own ``cost`` expression, evaluated with the
model's scores (``p_churn``, ``uplift``): what the business expects to spend when it
decides. Budgets and caps are charged with it, for every policy alike, so "the same budget"
means the same currency for all.

*Expected net value* (the model's view): Σ over contacted customers of
``uplift × clv − booked cost`` with the model's ``uplift`` and ``clv``.

*True net value* (only with truth): for customer ``i`` given action ``a``::

    p0, pa   true churn without action / with a (truth_p_churn__none, truth_p_churn__<a>)
    V        value if retained = lifetime value of the true renewal margin
             (proposed_premium − expected_claims_cost − cost_to_serve) over the bundle's
             value-model horizon and discounting (the generator has no truth past this
             renewal, so the years after come from the fitted cohort curve)
    true cost = concession × (1 − pa) + other cost
    true net value = (p0 − pa) × V − true cost

The *concession* is the premium the generator itself takes off for a price action (5 % or
10 % of the proposed premium for the loyalty discounts, ``proposed − current`` premium,
if positive, for the freeze): it is given up for one year by every customer who renews
with the offer (``1 − pa``), and a customer who leaves pays nothing. That is exactly the
difference between the insurer's expected money with the action, ``(1 − pa)(V −
concession) − other``, and without it, ``(1 − p0) V``. It does not come from the rule
file, so a rule set cannot flatter itself with a low cost expression. *Other cost* is
the rule set's cost expression evaluated with the true churn and true uplift, counted for
every contacted customer (we do not model acceptance): the callback's 40, the payment
plan's 12, the bundle discount's ``0.15 × 380 × (1 − p + uplift)``; zero for price actions.
Actions the generator does not model (``loyalty_reward``, ``thank_you_note``) have no true
effect on churn: their true value is minus their cost.

Policies, all under the same budgets and total caps
===================================================

``engine``
    The rule set as written: top-K candidates per customer, the control group held back,
    budgets allocated as the rule file's ``arbitration.allocation`` says (greedy by
    expected value, by value per cost, or priced by the budgets' shadow prices).
``no_action``
    Nobody is contacted: zero cost, zero value (the reference).
``top_decile_discount_10``
    ``loyalty_discount_10`` to the 10 % of customers with the highest model churn risk,
    ignoring eligibility, allocated by churn risk.
``cheapest_offer``
    To every customer who qualifies for at least one action the truth can value (channel,
    event, validity, eligibility, guardrails), the cheapest by booked cost (the next
    cheapest if its budget is spent), allocated by churn risk.
``oracle``
    Knows the true effects: per customer every action the context allows (channel, event,
    validity; eligibility and guardrails are *not* imposed) with a positive true net value,
    allocated under the same budgets and caps in three ways, and the best of the three by
    true net value (``training.simulation.policies.oracle_allocations``):
    ``oracle_greedy`` (largest true value first: the exact optimum when no budget or cap
    binds, since every customer then gets their best action), ``oracle_value_per_cost``
    (true value per unit of booked cost first) and ``oracle_shadow_price`` (the priced
    knapsack the engine's ``shadow_price`` allocation uses, over the true values: within a
    few customers at the margin of the optimum of the linear relaxation). The three are
    reported too. When a budget binds none is a proven optimum; the oracle is the best of
    them, which in practice is the priced one.
``oracle_within_rules``
    The same, limited to what the rule set's eligibility and guardrails allow: the gap
    between ``oracle`` and it is what the rule set's targeting costs, the gap from it to
    ``engine`` what the model costs.

Renewal pricing
===============

For every customer with a proposed premium, the rule set's recommended premium
(``check_renewals``: the premium of highest expected value the model finds within the price
policies' bounds, ``engine/decision/pricing.py``; the recommended premium also for
``review`` verdicts) against
approving every proposed premium as is. With truth, per customer at premium ``P``::

    kept = 1 − p_true(P)          (training.synth.true_churn_probability)
    true net value = kept × lifetime value of the margin at P (P − claims − cost to serve)

A renewal price is permanent, so the margin at ``P`` holds for the whole horizon. Offers
attached to a renewal verdict are not valued here (they are retention actions).
"""

from training.simulation.diff import RuleSetDiff, diff_rule_sets
from training.simulation.run import Simulation, SimulationOptions, simulate

__all__ = [
    "RuleSetDiff",
    "Simulation",
    "SimulationOptions",
    "diff_rule_sets",
    "simulate",
]
