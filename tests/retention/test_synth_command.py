"""`retention synth`: writes a book, and refuses bad arguments with one clear line."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from retention.cli import app

runner = CliRunner()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_writes_a_book_and_same_seed_gives_same_bytes(tmp_path: Path, suffix: str) -> None:
    first, second = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    for out in (first, second):
        result = runner.invoke(app, ["synth", "-n", "1500", "--seed", "9", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert "1,500 customers" in result.output
    assert _digest(first) == _digest(second)
    book = pd.read_parquet(first) if suffix == ".parquet" else pd.read_csv(first)
    assert len(book) == 1500
    assert "truth_p_churn__none" in book.columns


def test_other_seed_gives_other_book(tmp_path: Path) -> None:
    for seed in ("1", "2"):
        runner.invoke(
            app, ["synth", "-n", "500", "--seed", seed, "--out", f"{tmp_path}/{seed}.csv"]
        )
    assert _digest(tmp_path / "1.csv") != _digest(tmp_path / "2.csv")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-n", "0"], "--customers must be a positive number, got 0"),
        (["-n", "-5"], "--customers must be a positive number, got -5"),
    ],
)
def test_refuses_non_positive_counts(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["synth", *args, "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.csv").exists()


def test_refuses_unknown_extension(tmp_path: Path) -> None:
    result = runner.invoke(app, ["synth", "-n", "10", "--out", str(tmp_path / "book.xlsx")])
    assert result.exit_code == 2
    assert "unknown extension '.xlsx'; use .parquet or .csv" in result.output


def test_refuses_missing_directory(tmp_path: Path) -> None:
    result = runner.invoke(app, ["synth", "-n", "10", "--out", str(tmp_path / "no" / "b.csv")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_refuses_unwritable_place() -> None:
    # /proc refuses new files even to root, for whom permission bits do not apply.
    result = runner.invoke(app, ["synth", "-n", "10", "--out", "/proc/book.csv"])
    assert result.exit_code == 2
    assert "not writable" in result.output


def test_console_script_is_installed(tmp_path: Path) -> None:
    out = tmp_path / "book.parquet"
    done = subprocess.run(
        ["retention", "synth", "--customers", "200", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 0
    bad = subprocess.run(
        ["retention", "synth", "--customers", "0", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0, bad.stderr
