"""`retention features push`: loads a book into Redis and reports customers/s."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from engine.stores.features_redis import RedisFeatureStore
from retention.commands.features import features_app

runner = CliRunner()
# Wired as in retention/cli.py: app.add_typer(features_app, name="features").
app = typer.Typer()
app.add_typer(features_app, name="features")


@pytest.mark.integration
def test_push_loads_the_book(tmp_path: Path, redis_url: str, redis_prefix: str) -> None:
    path = tmp_path / "book.parquet"
    pd.DataFrame({"customer_id": ["A", "B"], "age": [40, 50], "truth_x": [0.1, 0.2]}).to_parquet(
        path
    )
    result = runner.invoke(
        app,
        [
            "features",
            "push",
            "--data",
            str(path),
            "--redis-url",
            redis_url,
            "--prefix",
            redis_prefix,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "pushed 2 customers" in result.output
    assert "customers/s" in result.output
    store = RedisFeatureStore(redis_url, prefix=redis_prefix)
    assert store.get("B") == {"age": 50}
    store.close()


def test_push_without_redis_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.core.config import get_settings

    monkeypatch.delenv("RETENTION_REDIS_URL", raising=False)
    get_settings.cache_clear()
    path = tmp_path / "book.csv"
    path.write_text("customer_id,age\nA,40\n")
    result = runner.invoke(app, ["features", "push", "--data", str(path)])
    get_settings.cache_clear()
    assert result.exit_code == 2
    assert "no Redis to push to" in result.output


def test_push_unreachable_redis_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    path.write_text("customer_id,age\nA,40\n")
    result = runner.invoke(
        app, ["features", "push", "--data", str(path), "--redis-url", "redis://127.0.0.1:1/0"]
    )
    assert result.exit_code == 2
    assert "feature push" in result.output
    assert "Traceback" not in result.output
