"""Every file under rules/ is loaded: rule sets compile, case files load and pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.rules import load_rule_set
from engine.rules.cases import load_case_files, run_cases

RULES = Path(__file__).resolve().parents[2] / "rules"
RULE_FILES = sorted(RULES.glob("*.yaml"))
CASE_FILES = sorted(RULES.glob("cases/*.yaml"))


def test_rules_holds_only_rule_sets_case_files_and_readmes() -> None:
    known = {*RULE_FILES, *CASE_FILES}
    others = [
        path.relative_to(RULES)
        for path in RULES.rglob("*")
        if path.is_file() and path not in known and path.name != "README.md"
    ]
    assert others == []
    assert RULE_FILES
    assert CASE_FILES


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda path: path.name)
def test_rule_set_compiles(path: Path) -> None:
    rules = load_rule_set(path)
    assert rules.actions


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda path: path.name)
def test_case_file_passes_against_the_rule_set_next_to_its_folder(path: Path) -> None:
    rule_sets = sorted(path.parent.parent.glob("*.yaml"))
    assert len(rule_sets) == 1, "one rule set per folder: say which one the cases are for"
    results = run_cases(load_rule_set(rule_sets[0]), load_case_files([path]))
    failed = {result.where: result.failures for result in results if not result.passed}
    assert failed == {}
