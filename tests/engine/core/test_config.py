"""Settings: defaults, environment, refusal of placeholders and of unknown variables."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from engine.core.config import Settings, get_settings
from engine.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("RETENTION_") or name == "MLFLOW_TRACKING_URI":
            monkeypatch.delenv(name)
    get_settings.cache_clear()


def test_defaults_are_the_embedded_setup() -> None:
    settings = Settings()
    assert settings.redis_url is None
    assert settings.database_url == "sqlite:///./retention-decisions.db"
    assert settings.keys_file == Path("retention-keys.json")
    assert settings.model_uri == "models:/retention-bundle@champion"
    assert settings.consistency_window_seconds == 86_400
    assert settings.environment == "development"


def test_every_setting_is_documented() -> None:
    undocumented = [n for n, f in Settings.model_fields.items() if not f.description]
    assert undocumented == []


def test_reads_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETENTION_REDIS_URL", "redis://example:6379/2")
    monkeypatch.setenv("RETENTION_DECISION_LOG_MAX_BATCH", "32")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow:5000")
    settings = get_settings()
    assert settings.redis_url == "redis://example:6379/2"
    assert settings.decision_log_max_batch == 32
    assert settings.mlflow_tracking_uri == "http://mlflow:5000"
    assert get_settings() is settings  # built once


def test_secrets_stay_out_of_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETENTION_DATABASE_URL", "postgresql://u:s3cr3t@db/retention")
    assert "s3cr3t" not in repr(get_settings())


def test_unknown_variable_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETENTION_REDIS_ULR", "redis://x")
    with pytest.raises(ConfigError, match="RETENTION_REDIS_ULR"):
        get_settings()


def test_bad_value_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETENTION_DECISION_LOG_MAX_BATCH", "zero")
    with pytest.raises(ConfigError, match="decision_log_max_batch"):
        get_settings()


@pytest.mark.parametrize("password", ["changethis", "password", "Secret"])
def test_placeholder_secret_refused_in_production(password: str) -> None:
    url = f"postgresql://retention:{password}@db/retention"
    Settings(database_url=url)  # fine while developing
    with pytest.raises(ValueError, match="placeholder password"):
        Settings(environment="production", database_url=url)
    with pytest.raises(ValueError, match="REDIS_URL"):
        Settings(environment="production", redis_url=f"redis://:{password}@cache:6379/0")


def test_real_secret_accepted_in_production() -> None:
    settings = Settings(
        environment="production", database_url="postgresql://r:Xk2-91jq@db/retention"
    )
    assert settings.environment == "production"


def test_decision_log_flushes_unless_relaxed_explicitly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().decision_log_durability == "flush"
    monkeypatch.setenv("RETENTION_DECISION_LOG_DURABILITY", "commit")
    assert Settings().decision_log_durability == "commit"
    monkeypatch.setenv("RETENTION_DECISION_LOG_DURABILITY", "OFF")
    with pytest.raises(ValidationError):
        Settings()
