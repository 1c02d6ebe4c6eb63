"""Reason codes in words an agent can read: one sentence per model feature.

A sentence says what the feature's value is and whether it raises or lowers the risk that
the customer leaves; features without a sentence of their own get a generic one.
"""

from __future__ import annotations

import math

SENTENCES: dict[str, str] = {
    "price_change": "the renewal premium changes by {pct:+.1f} %",
    "price_to_new_business": "the renewal premium is {pct:+.1f} % against the new-business price",
    "tenure_years": "customer for {v:.0f} years",
    "years_loss_free": "{v:.0f} years without a claim",
    "claims_count_3y": "{v:.0f} claims in the last three years",
    "claims_amount_3y": "claims of {v:,.0f} in the last three years",
    "complaints_12m": "{v:.0f} complaints in the last twelve months",
    "service_calls_12m": "{v:.0f} service calls in the last twelve months",
    "late_payments_12m": "{v:.0f} late payments in the last twelve months",
    "satisfaction": "satisfaction score {v:.0f} of 10",
    "n_products": "{v:.0f} products with us",
    "annual_premium": "annual premium of {v:,.2f}",
    "proposed_premium": "proposed renewal premium of {v:,.2f}",
    "new_business_premium": "new-business premium of {v:,.2f}",
    "age": "aged {v:.0f}",
    "margin": "annual margin of {v:,.2f}",
}


def reason_sentence(
    feature: str, value: float, contribution: float, level: str | None = None
) -> str:
    """``level``: the category a categorical feature's code stands for."""
    effect = "raises" if contribution > 0 else "lowers"
    if level is not None:
        return f"{feature.replace('_', ' ').capitalize()} {level}: {effect} the churn risk"
    if math.isnan(value):
        return f"{feature.replace('_', ' ')} is unknown, which {effect} the churn risk"
    template = SENTENCES.get(feature)
    if template is None:
        what = f"{feature.replace('_', ' ')} = {value:g}"
    else:
        what = template.format(v=value, pct=value * 100.0)
    return f"{what[0].upper()}{what[1:]}: {effect} the churn risk"
