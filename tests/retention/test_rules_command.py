"""`retention rules check | test`: exit 0 with a summary, or 2 with every problem located."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from retention.commands.rules import rules_app

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "rules" / "retention.yaml"
runner = CliRunner()


def _copy_rules(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    return tmp_path / "rules" / "retention.yaml"


def test_check_prints_a_one_line_summary() -> None:
    result = runner.invoke(rules_app, ["check", str(DEMO)])
    assert result.exit_code == 0, result.output
    assert result.output.count("\n") == 1
    assert "ok" in result.output
    assert "demo-insurer sha256:" in result.output
    assert "8 actions + no_action, 5 price policies" in result.output


def test_check_prints_every_problem_with_its_location(tmp_path: Path) -> None:
    path = _copy_rules(tmp_path)
    text = path.read_text()
    path.write_text(
        text.replace("margin > 150", "margn > 150").replace(
            "budget: pricing_concessions", "budget: pricing_concesions"
        )
    )
    broken = path.read_text()
    line = broken[: broken.index("margn")].count("\n") + 1
    column = broken.index("margn") - broken.rfind("\n", 0, broken.index("margn"))
    result = runner.invoke(rules_app, ["check", str(path)])
    assert result.exit_code == 2
    assert f"{path}: 2 problems" in result.output
    where = f"{path}:{line}:{column}: unknown field 'margn'; did you mean 'margin'?"
    assert where in result.output
    assert (
        "unknown budget 'pricing_concesions'; did you mean 'pricing_concessions'?" in result.output
    )
    assert "Traceback" not in result.output


def test_check_refuses_a_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(rules_app, ["check", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_test_runs_the_demo_cases() -> None:
    result = runner.invoke(rules_app, ["test", str(DEMO)])
    assert result.exit_code == 0, result.output
    assert (
        "PASS loss-free, valuable, price-sensitive - no increase and a loyalty reward"
        in result.output
    )
    assert "0 failed" in result.output


def test_test_shows_what_was_expected_and_exits_2_on_a_failing_case(tmp_path: Path) -> None:
    path = _copy_rules(tmp_path)
    cases = path.parent / "cases" / "renewals.yaml"
    cases.write_text(
        cases.read_text().replace("recommended_premium: 800", "recommended_premium: 900")
    )
    result = runner.invoke(rules_app, ["test", str(path)])
    assert result.exit_code == 2
    assert "FAIL loss-free, valuable, price-sensitive" in result.output
    assert "recommended_premium: expected 900.00, got 800.00" in result.output
    assert "1 failed" in result.output


def test_test_takes_a_single_case_file_or_a_folder(tmp_path: Path) -> None:
    one = runner.invoke(
        rules_app, ["test", str(DEMO), "--cases", str(ROOT / "rules" / "cases" / "renewals.yaml")]
    )
    assert one.exit_code == 0, one.output
    assert "7 cases, 7 passed" in one.output
    empty = tmp_path / "empty"
    empty.mkdir()
    none = runner.invoke(rules_app, ["test", str(DEMO), "--cases", str(empty)])
    assert none.exit_code == 2
    assert "no case files" in none.output


def test_test_refuses_an_invalid_rule_file(tmp_path: Path) -> None:
    path = _copy_rules(tmp_path)
    path.write_text(path.read_text().replace("share: 0.05", "share: 5"))
    result = runner.invoke(rules_app, ["test", str(path)])
    assert result.exit_code == 2
    assert "control_group.share: Input should be less than or equal to 1 (got 5)" in result.output
