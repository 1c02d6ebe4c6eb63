"""Every setting of the service, declared once: type, default and meaning.

Read from environment variables with the ``RETENTION_`` prefix (``RETENTION_REDIS_URL``,
...). Nothing is read at import: ``get_settings()`` builds the object on first use (the
FastAPI lifespan or a CLI command), and tests build ``Settings(...)`` directly.

A ``RETENTION_*`` variable that names no setting is refused, so a typo such as
``RETENTION_REDIS_ULR`` fails loudly instead of silently running on the embedded stores.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.errors import ConfigError

ENV_PREFIX = "RETENTION_"

# Passwords that come from examples and templates; outside development they mean somebody
# forgot to set the real secret.
PLACEHOLDER_SECRETS = frozenset(
    {"changethis", "changeme", "change-me", "password", "secret", "placeholder", "example"}
)


class Settings(BaseSettings):
    """The settings of the decision service and of the commands that share its stores."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", frozen=True, validate_default=True
    )

    environment: Literal["development", "production"] = Field(
        "development",
        description="development allows placeholder secrets; production refuses them.",
    )
    redis_url: str | None = Field(
        None,
        repr=False,  # may hold a password
        description="Redis for online features and counters, e.g. redis://host:6379/0. "
        "Unset: in-process stores (features from FEATURES_FILE; counters in memory).",
    )
    redis_prefix: str = Field(
        "retention",
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Prefix of every Redis key, so several deployments can share a server.",
    )
    redis_timeout_seconds: float = Field(
        0.25,
        gt=0,
        description="Socket connect/read timeout for Redis on the request path; short so "
        "an unreachable Redis fails fast into a degraded answer.",
    )
    database_url: str = Field(
        "sqlite:///./retention-decisions.db",
        repr=False,
        description="SQLAlchemy URL of the decision log: SQLite file (default) or "
        "postgresql+psycopg://user:pass@host/db.",
    )
    features_file: Path | None = Field(
        None,
        description="CSV or Parquet book loaded into the in-process feature store when "
        "REDIS_URL is unset (one row per customer_id; truth_* columns are never loaded).",
    )
    keys_file: Path = Field(
        Path("retention-keys.json"),
        description="JSON file of API keys (hashes only), written by `retention keys`.",
    )
    rules_path: Path = Field(
        Path("rules/retention.yaml"), description="Rule set file, hot-reloaded on change."
    )
    model_uri: str = Field(
        "models:/retention-bundle@champion",
        description="MLflow URI of the model bundle; an alias follows promotions.",
    )
    mlflow_tracking_uri: str | None = Field(
        None,
        validation_alias=AliasChoices("RETENTION_MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI"),
        description="Passed through to MLflow (which also reads MLFLOW_TRACKING_URI itself); "
        "unset: MLflow's own default.",
    )
    consistency_window_seconds: int = Field(
        86_400,
        ge=0,
        description="The same customer and context get the same answer on every channel "
        "within this window.",
    )
    reason_method: Literal["path", "treeshap"] = Field(
        "path",
        description="How reason codes attribute the churn score to features: path "
        "contributions (~20 µs, precomputed per leaf) or LightGBM's exact TreeSHAP "
        "(pred_contrib, ~1 ms per decision).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Level of the service's logs."
    )
    reload_poll_seconds: float = Field(
        2.0,
        gt=0,
        description="How often rules, model alias and keys file are checked for changes.",
    )
    decision_log_max_batch: int = Field(
        256, ge=1, description="Most decisions written in one group-commit transaction."
    )
    decision_log_max_wait_ms: float = Field(
        0.0,
        ge=0,
        description="How long the writer waits for more decisions to join a batch that "
        "is not full. 0 (default) commits whatever is queued at once: under load batches "
        "form by themselves while the previous commit is in flight, and a wait would be "
        "added to every decision's latency when traffic is light.",
    )

    decision_log_writer: Literal["auto", "loop", "process", "thread"] = Field(
        "auto",
        description="Where the decision log's group commit runs. loop (PostgreSQL only): "
        "on the service's event loop, each batch one autocommitted INSERT on an asyncio "
        "connection, the fastest (bench/results/service.md). process: a child process "
        "with its own database connection, so inserts and commits never hold the "
        "service's interpreter lock; restarted if it dies. thread: a thread of the "
        "service process. auto (default): loop on PostgreSQL, process on SQLite.",
    )

    decision_log_durability: Literal["flush", "commit"] = Field(
        "flush",
        description="flush (default): a decision is returned once its row is on disk "
        "(SQLite synchronous=FULL, PostgreSQL synchronous_commit=on) and survives a power "
        "cut. commit: once the database has committed it (SQLite WAL synchronous=NORMAL, "
        "PostgreSQL synchronous_commit=off): it survives a crash of this service, but a "
        "crash of the database server or machine may lose the last fraction of a second of "
        "decisions. An opt-in for latency, shown in /readyz.",
    )

    # Read directly by engine.scoring.compiled (batch scoring runs outside the service too);
    # declared here so they are documented and not refused as unknown variables.
    model_cache_dir: Path | None = Field(
        None,
        description="Where compiled (lleaves) models are cached, keyed by the model file's "
        "sha256; default ~/.cache/retention/compiled.",
    )
    compiled_models: bool = Field(
        True,
        description="Compile LightGBM models for batch scoring (>= 100k rows); false: always "
        "use LightGBM's own predictor.",
    )

    @model_validator(mode="after")
    def _refuse_placeholders_outside_development(self) -> Settings:
        if self.environment == "development":
            return self
        for name, url in (("REDIS_URL", self.redis_url), ("DATABASE_URL", self.database_url)):
            password = urlsplit(url).password if url else None
            if password is not None and password.lower() in PLACEHOLDER_SECRETS:
                raise ValueError(
                    f"{ENV_PREFIX}{name} uses the placeholder password {password!r}; "
                    f"set a real secret (allowed only with {ENV_PREFIX}ENVIRONMENT=development)"
                )
        return self

    @model_validator(mode="after")
    def _refuse_unknown_variables(self) -> Settings:
        known = {f"{ENV_PREFIX}{name}".upper() for name in type(self).model_fields}
        unknown = sorted(
            key
            for key in os.environ
            if key.upper().startswith(ENV_PREFIX) and key.upper() not in known
        )
        if unknown:
            raise ValueError(f"unknown setting(s) {', '.join(unknown)}; known: {sorted(known)}")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment on first call and then cached.

    Invalid settings raise ``ConfigError`` with one line per problem, so the command line
    and the service's startup print a clear message instead of a validation traceback.
    Tests that change the environment call ``get_settings.cache_clear()``.
    """
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc
