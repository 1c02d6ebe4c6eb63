"""Errors of the service layer, in the project's one tree (``engine.errors``).

RetentionError
├── UnknownCustomer         404  no stored features and none given inline
├── InvalidRequest          422  a request value the pipeline cannot use (names the field)
└── ServiceNotReady         503  the service has not finished starting (or is stopping)
"""

from __future__ import annotations

from engine.errors import RetentionError


class UnknownCustomer(RetentionError):  # noqa: N818 - reads as the condition it reports
    """The customer is not in the feature store and the request brought no features."""

    status_code = 404


class InvalidRequest(RetentionError):  # noqa: N818
    """A value of the request that validates as JSON but cannot be used; names the field."""

    status_code = 422

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class ServiceNotReady(RetentionError):  # noqa: N818
    """The service is starting or stopping."""

    status_code = 503
