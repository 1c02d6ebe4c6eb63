"""Errors of the state layer, in the project's one tree (``engine.errors``).

    RetentionError
    ├── FeatureStoreUnavailable     503  (engine.errors) the feature store cannot be reached
    ├── FeatureDataError            500  a stored feature value cannot be decoded
    ├── CounterStoreUnavailable     503  contact/cap/budget counters cannot be reached
    ├── DecisionLogUnavailable      503  the decision log database refused or is down
    ├── DecisionNotFound            404  an outcome or lookup names an unknown decision
    └── OutcomeConflict             409  a different outcome was already recorded

They live here rather than in ``engine/errors.py`` only because that file belongs to
another change in flight; they subclass ``RetentionError`` so the one handler maps them.
"""

from __future__ import annotations

from engine.errors import RetentionError


class FeatureDataError(RetentionError):
    """A stored feature value has no known type tag (written by something else?)."""


class CounterStoreUnavailable(RetentionError):  # noqa: N818 - reads as the condition
    """The counter store (contact policy, caps, budgets) cannot be reached."""

    status_code = 503


class DecisionLogUnavailable(RetentionError):  # noqa: N818
    """The decision log could not commit or read (database down, disk full, ...)."""

    status_code = 503


class DecisionNotFound(RetentionError):  # noqa: N818
    """No decision with this id was logged."""

    status_code = 404


class OutcomeConflict(RetentionError):  # noqa: N818
    """An outcome for this decision and action exists and says something else."""

    status_code = 409
