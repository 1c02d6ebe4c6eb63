"""Hot reload: atomic swap on a valid change, the last good set kept on a bad one."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from engine.errors import RuleError
from engine.rules import RuleSetHolder

DEMO = Path(__file__).resolve().parents[3] / "rules" / "retention.yaml"


@pytest.fixture
def rule_file(tmp_path: Path) -> Path:
    path = tmp_path / "retention.yaml"
    path.write_bytes(DEMO.read_bytes())
    return path


def test_reload_without_change_keeps_the_same_object(rule_file: Path) -> None:
    holder = RuleSetHolder(rule_file)
    first = holder.current
    result = holder.reload()
    assert result.ok
    assert not result.changed
    assert result.rule_set_hash == first.hash
    assert holder.current is first


def test_a_valid_change_is_swapped_in(rule_file: Path) -> None:
    holder = RuleSetHolder(rule_file)
    old = holder.current
    rule_file.write_text(rule_file.read_text().replace("top_k: 3", "top_k: 2"))
    result = holder.reload()
    assert result.ok
    assert result.changed
    assert holder.current is not old
    assert holder.current.top_k == 2
    assert result.rule_set_hash == holder.current.hash != old.hash
    assert holder.last_error is None


def test_an_invalid_file_never_replaces_the_running_set(rule_file: Path) -> None:
    holder = RuleSetHolder(rule_file)
    good = holder.current
    rule_file.write_text(rule_file.read_text().replace("margin > 150", "margn > 150"))
    result = holder.reload()
    assert not result.ok
    assert not result.changed
    assert holder.current is good
    assert result.rule_set_hash == good.hash
    assert result.error is not None
    assert "unknown field 'margn'" in result.error
    assert holder.last_error == result.error
    rule_file.unlink()
    missing = holder.reload()
    assert not missing.ok
    assert "no such file" in (missing.error or "")
    assert holder.current is good
    rule_file.write_bytes(DEMO.read_bytes())
    recovered = holder.reload()
    assert recovered.ok
    assert holder.last_error is None
    assert holder.current.hash == good.hash


def test_a_service_does_not_start_on_an_invalid_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\n")
    with pytest.raises(RuleError):
        RuleSetHolder(bad)


def test_concurrent_reloads_and_reads(rule_file: Path) -> None:
    holder = RuleSetHolder(rule_file)
    text = rule_file.read_text()
    seen: set[str] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            rules = holder.current
            seen.add(rules.hash)
            assert rules.top_k in (2, 3)

    reader = threading.Thread(target=read)
    reader.start()
    for top_k in (2, 3, 2, 3):
        rule_file.write_text(text.replace("top_k: 3", f"top_k: {top_k}"))
        assert holder.reload().ok
    stop.set()
    reader.join()
    assert len(seen) >= 1
