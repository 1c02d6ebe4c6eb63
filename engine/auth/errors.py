"""Errors of the API-key layer, in the project's one tree (``engine.errors``).

    RetentionError
    └── KeyFileError            400  a bad keys file, key name, or change to it
        ├── UnknownScope        400  a scope that is not decide, pricing, outcomes, admin
        └── UnknownKey          404  revoking a name that has no key

(Kept here because ``engine/errors.py`` belongs to another change in flight.)
"""

from __future__ import annotations

from engine.errors import RetentionError


class KeyFileError(RetentionError):
    """A keys file, key name or change that cannot be accepted."""

    status_code = 400


class UnknownScope(KeyFileError):  # noqa: N818 - reads as the condition it reports
    """A scope name that the service does not know."""


class UnknownKey(KeyFileError):  # noqa: N818
    """No key by that name."""

    status_code = 404
