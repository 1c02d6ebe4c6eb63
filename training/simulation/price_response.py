"""The model's churn at other premiums, for the renewal check over a whole book.

``check_renewals`` asks for the churn at one premium per row, once per candidate premium
(about 19 calls). Over a book most of those (row, premium) pairs repeat: candidates clip to
the proposed premium or to a bound, and the current premium is asked for twice. So the
feature matrix is built once; each call rebuilds only the columns the offered premium
changes (``engine.features.build_matrix`` itself, on those rows) and scores only the
(row, premium) pairs no earlier call has scored. Same numbers as rescoring every row:
a row's features and score do not depend on the other rows of its batch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.decision import PriceResponse
from engine.features import FeatureSpec, build_matrix
from engine.scoring.bundle import ModelBundle
from training.simulation.matrices import Numbers


def price_features(spec: FeatureSpec) -> tuple[FeatureSpec, list[int]]:
    """The features that depend on the offered premium (the proposed-premium feature, if
    one, and the derived price features) as a spec of their own, and their columns in the
    full matrix, in the same order."""
    numeric = tuple(name for name in spec.numeric if name == spec.proposed_premium)
    part = spec.model_copy(update={"numeric": numeric, "categorical": ()})
    return part, [spec.names.index(name) for name in part.names]


def price_response(bundle: ModelBundle, frame: pd.DataFrame, at_proposed: Numbers) -> PriceResponse:
    """The model's churn at one premium per row of ``frame``; ``at_proposed`` is the score
    already computed at the proposed premium (rows offered it are not scored again)."""
    spec = bundle.features
    proposed = frame["proposed_premium"].to_numpy(dtype=np.float64)
    base = bundle.matrix(frame)
    part, dependent = price_features(spec)
    raw = [c for c in (spec.premium, spec.new_business_premium) if c and c in frame.columns]
    prices = {name: _floats(frame[name]) for name in raw}
    asked: list[tuple[Numbers, Numbers]] = [(proposed, at_proposed)]

    def at(premium: Numbers) -> Numbers:
        premium = np.asarray(premium, dtype=np.float64)
        out = at_proposed.copy()
        rows = np.flatnonzero((premium != proposed) & np.isfinite(premium))
        for earlier, scored in asked[1:]:
            if not len(rows):
                break
            hit = premium[rows] == earlier[rows]
            out[rows[hit]] = scored[rows[hit]]
            rows = rows[~hit]
        if len(rows):
            x = base[rows]
            if dependent:
                columns = {name: values[rows] for name, values in prices.items()}
                columns[spec.proposed_premium or "proposed_premium"] = premium[rows]
                x[:, dependent] = build_matrix(columns, part, offered_premium=premium[rows])
            out[rows] = bundle.p_churn(x)
        asked.append((premium, out))
        return out

    return at


def _floats(column: pd.Series) -> Numbers:
    """A column as ``build_matrix`` reads it (non-numbers and missing values: NaN)."""
    numeric = pd.to_numeric(column, errors="coerce").astype("float64")
    return np.asarray(numeric, dtype=np.float64)
