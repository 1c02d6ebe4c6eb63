"""A penalised additive logistic model on top of a per-row offset (log-odds).

Used for the per-action stage of the uplift offset learner (training/models/uplift.py).
There an action's effect on the log-odds often sits on a small group of customers (those
with late payments, single-product customers) and shows at a few standard errors in the
~8k treated customers of an action. Small boosted trees must find such a group by a greedy
split among all features' thresholds and are then shrunk hard; a ridge-penalised logistic
regression on a fixed additive basis estimates every feature's contribution jointly, so a
real group effect keeps more of its size (bench/results/train.md, 2026-11-23: effect-Qini
ratio of bundle_discount +0.03 and payment_plan +0.06 on average over two books and two
seeds, +0.03 and +0.04 over resampled outcomes).

The basis is generic, fitted on the data, with no knowledge of the actions: per numeric
feature a clipped, standardised linear term plus a one-hot of its values when it has few
(counts, flags) or of its quantile bins otherwise; a one-hot of each categorical feature's
codes. The penalty is chosen by K-fold cross-validated deviance over a fixed grid.

What the basis does not know, the data's owner may: the features an action is *designed*
to work through (a payment plan for customers who pay late: the contract's
``roles.treatment.modifiers``, the effect modifiers of the causal-inference literature).
Their columns get ``MODIFIER_PENALTY_FACTOR`` of the penalty, a prior that the action's
effect varies along them; the other features stay in, at the full penalty, so a
declaration narrows nothing. It is a prior all the same: on the 200k books the demo
contract's declarations raised payment_plan's effect-Qini ratio by 0.07 on average, and
declaring noise features instead cost it 0.03-0.09 (bench/results/train.md, 2026-12-05).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import expit
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from training.models.boosting import SPLIT_SALT

FloatArray = npt.NDArray[np.float64]

MAX_LEVELS = 12
"""A numeric feature with at most this many distinct values gets one indicator per value."""
BINS = 8
"""Otherwise, indicators of its quantile bins (plus the linear term)."""
CLIP_QUANTILE = 0.005
"""Linear terms are clipped to these quantiles so a few extreme premiums do not dominate."""
PENALTIES: tuple[float, ...] = tuple(float(v) for v in np.geomspace(100.0, 10_000.0, 5))
"""Ridge penalties tried by cross-validation (factor √10 apart). On the 200k books (~8k
treated rows per action, ~200 basis columns) the choice fell between 300 and 3,000 for
every action; a grid twice as fine gave the same ranking quality (within 0.01) at twice
the cost."""
FOLDS = 5
NEWTON_ITERATIONS = 50
MODIFIER_PENALTY_FACTOR = 0.1
"""A declared effect modifier's columns get this share of the cross-validated penalty. On
the 200k books (two books × two seeds) 0.1 and 0.01 gave the same rankings within 0.01
on average; 0.1 is the milder prior."""


@dataclass(frozen=True)
class Term:
    """One block of basis columns from feature ``column``."""

    column: int
    kind: str  # "linear" | "levels" | "bins"
    values: tuple[float, ...]  # linear: (low, high, mean, sd); levels: values; bins: edges

    def columns(self, x: FloatArray) -> FloatArray:
        v = x[:, self.column]
        if self.kind == "linear":
            low, high, mean, sd = self.values
            filled = np.where(np.isnan(v), mean, v)
            return ((np.clip(filled, low, high) - mean) / sd)[:, None]
        points = np.asarray(self.values, dtype=np.float64)
        if self.kind == "levels":
            # a missing or unseen value gets no indicator: only the linear term, if any
            return np.asarray(v[:, None] == points[None, :], dtype=np.float64)
        bins = np.searchsorted(points, v, side="right")
        onehot = bins[:, None] == np.arange(len(points) + 1)[None, :]
        return np.asarray(onehot & ~np.isnan(v)[:, None], dtype=np.float64)


@dataclass(frozen=True)
class AdditiveBasis:
    terms: tuple[Term, ...]

    @classmethod
    def fit(cls, x: FloatArray, categorical: Sequence[int]) -> AdditiveBasis:
        terms: list[Term] = []
        for j in range(x.shape[1]):
            v = x[:, j][~np.isnan(x[:, j])]
            if len(v) == 0:
                continue
            levels = np.unique(v)
            if j in categorical:
                terms.append(Term(j, "levels", tuple(float(a) for a in levels)))
                continue
            low, high = (float(q) for q in np.quantile(v, [CLIP_QUANTILE, 1 - CLIP_QUANTILE]))
            clipped = np.clip(v, low, high)
            sd = float(clipped.std())
            if sd > 0:
                terms.append(Term(j, "linear", (low, high, float(clipped.mean()), sd)))
            if len(levels) <= MAX_LEVELS:
                terms.append(Term(j, "levels", tuple(float(a) for a in levels)))
            else:
                edges = np.unique(np.quantile(v, np.linspace(0, 1, BINS + 1)[1:-1]))
                terms.append(Term(j, "bins", tuple(float(e) for e in edges)))
        return cls(tuple(terms))

    def __call__(self, x: FloatArray) -> FloatArray:
        return np.hstack([term.columns(x) for term in self.terms])

    def penalty_weights(self, x: FloatArray, favoured: Collection[int]) -> FloatArray:
        """Per basis column, the share of the penalty it gets: ``MODIFIER_PENALTY_FACTOR``
        for the columns of features ``favoured`` (indices into ``x``), 1 for the rest."""
        sample = x[:1]
        return np.concatenate(
            [
                np.full(
                    term.columns(sample).shape[1],
                    MODIFIER_PENALTY_FACTOR if term.column in favoured else 1.0,
                )
                for term in self.terms
            ]
        )


def _deviance(z: FloatArray, y: FloatArray, offset: FloatArray, w: FloatArray) -> float:
    eta = offset + w[0] + z @ w[1:]
    return float(np.sum(np.logaddexp(0.0, eta) - y * eta))


def fit_ridge_logistic(
    z: FloatArray,
    y: FloatArray,
    offset: FloatArray,
    penalty: float,
    start: FloatArray | None = None,
    weights: FloatArray | None = None,
) -> FloatArray:
    """Coefficients ``[intercept, *w]`` of ``P(y=1) = expit(offset + intercept + z·w)``.

    Maximises the log-likelihood minus ``penalty/2 · Σ weightsⱼ wⱼ²`` (``weights``: 1 for
    every column unless given; the intercept is not penalised, so the action's average
    shift is fitted exactly) by Newton's method.
    """
    n, k = z.shape
    design = np.hstack([np.ones((n, 1)), z])
    ridge = np.concatenate([[0.0], penalty * (np.ones(k) if weights is None else weights)])
    w = np.zeros(k + 1) if start is None else start.copy()
    for _ in range(NEWTON_ITERATIONS):
        p = expit(offset + design @ w)
        gradient = design.T @ (p - y) + ridge * w
        hessian = (design * (p * (1.0 - p))[:, None]).T @ design
        hessian[np.diag_indices_from(hessian)] += ridge + 1e-9
        step = np.linalg.solve(hessian, gradient)
        w -= step
        # Newton converges quadratically: 1e-6 in log-odds is far below the sampling noise.
        if float(np.max(np.abs(step))) < 1e-6:
            break
    return np.asarray(w, dtype=np.float64)


def choose_penalty(
    z: FloatArray,
    y: FloatArray,
    offset: FloatArray,
    seed: int,
    penalties: Sequence[float] = PENALTIES,
    folds: int = FOLDS,
    weights: FloatArray | None = None,
) -> float:
    """The penalty with the lowest total held-out deviance over ``folds`` folds
    (``weights``: per column, as in ``fit_ridge_logistic``)."""
    fold = np.random.default_rng([seed, SPLIT_SALT]).integers(0, folds, len(y))
    losses = np.zeros(len(penalties))
    # From the strongest penalty down, each fit warm-started from the previous one.
    order = sorted(range(len(penalties)), key=lambda i: -penalties[i])
    for f in range(folds):
        train, valid = fold != f, fold == f
        w: FloatArray | None = None
        for i in order:
            w = fit_ridge_logistic(z[train], y[train], offset[train], penalties[i], w, weights)
            losses[i] += _deviance(z[valid], y[valid], offset[valid], w)
    return float(penalties[int(np.argmin(losses))])


@dataclass(frozen=True)
class AdditiveStage:
    """A log-odds shift ``intercept + basis(x)·w`` learned on top of an offset."""

    basis: AdditiveBasis
    coefficients: FloatArray
    penalty: float

    def shift(self, x: FloatArray) -> FloatArray:
        return np.asarray(
            self.coefficients[0] + self.basis(x) @ self.coefficients[1:], dtype=np.float64
        )


def fit_additive_stage(
    basis: AdditiveBasis,
    x: FloatArray,
    y: FloatArray,
    offset: FloatArray,
    seed: int,
    modifiers: Collection[int] = (),
) -> AdditiveStage:
    """The stage for rows ``x``; ``modifiers``: the declared effect modifiers (feature
    indices), penalised less (module docstring)."""
    z = basis(x)
    weights = basis.penalty_weights(x, modifiers) if modifiers else None
    # One BLAS thread: the products (~8k × 200) are too small to gain from more, and on a
    # busy machine OpenBLAS threads wait for each other: measured 9.1 s against 1.8 s for
    # one action's fit with another job running on the 2 cores.
    with threadpool_limits(limits=1, user_api="blas"):
        penalty = choose_penalty(z, y, offset, seed, weights=weights)
        coefficients = fit_ridge_logistic(z, y, offset, penalty, weights=weights)
    return AdditiveStage(basis, coefficients, penalty)
