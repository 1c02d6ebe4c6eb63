"""The one exception tree of the project.

    RetentionError                      500  base: every error we raise on purpose
    ├── ConfigError                     500  bad settings or a missing file we were told to read
    ├── DataContractError               422  a table that does not satisfy its data contract
    │   └── ContractDefinitionError     422  the contract YAML itself is malformed
    ├── SynthError                      400  bad arguments to the synthetic book generator
    ├── TrainingError                   422  data that cannot train a model (one class, few rows)
    ├── RuleError                       422  a rule set that cannot be parsed, checked or compiled
    ├── ModelNotFound                   404  an unknown model reference
    ├── RegistryError                   503  the MLflow tracking store / registry failed
    └── FeatureStoreUnavailable         503  the online feature store cannot be reached

Each class carries the HTTP status the API maps it to, so the mapping lives in one place
(the handler reads ``status_code``) and the CLI prints ``str(exc)`` as one clear line.

Layers add leaves next to the code that raises them, all rooted here:

    RuleError → ExpressionError (rules/expression/errors.py), RuleSetError (rules/problems.py),
                TemplateError (rules/templates.py)
    RetentionError → FeatureDataError, CounterStoreUnavailable 503, DecisionLogUnavailable
                503, DecisionNotFound 404, OutcomeConflict 409 (stores/errors.py);
                KeyFileError → UnknownScope, UnknownKey (auth/errors.py);
                Unauthorized 401, Forbidden 403 (api/problems.py);
                UnknownCustomer 404, InvalidRequest 422, ServiceNotReady 503
                (service/errors.py)
"""

from __future__ import annotations


class RetentionError(Exception):
    """Base of every error the project raises on purpose."""

    status_code: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(RetentionError):
    """Settings or files the process was told to use are invalid or missing."""


class DataContractError(RetentionError):
    """A table does not satisfy its data contract; the message names column and rows."""

    status_code = 422

    def __init__(self, message: str, *, column: str | None = None, rows: list[int] | None = None):
        super().__init__(message)
        self.column = column
        self.rows = rows or []


class ContractDefinitionError(DataContractError):
    """The contract file itself is malformed (unknown keys, unknown roles, bad YAML)."""


class SynthError(RetentionError):
    """Bad arguments to the synthetic book generator."""

    status_code = 400


class TrainingError(RetentionError):
    """The data cannot train a model: one class only, too few rows, no usable feature."""

    status_code = 422


class RuleError(RetentionError):
    """A rule set cannot be parsed, type-checked or compiled."""

    status_code = 422


class ModelNotFound(RetentionError):  # noqa: N818 - the name reads as the condition it reports
    """A model reference (alias, version, run id, path) resolves to nothing."""

    status_code = 404


class RegistryError(RetentionError):
    """The MLflow tracking store or registry failed (unreachable, refused the model)."""

    status_code = 503


class FeatureStoreUnavailable(RetentionError):  # noqa: N818
    """The online feature store cannot be reached."""

    status_code = 503
