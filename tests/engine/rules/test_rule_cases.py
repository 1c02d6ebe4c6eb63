"""The case runner: passes the demo cases, and says precisely what differs when one fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.rules import RuleSetError, load_rule_set
from engine.rules.cases import load_case_files, run_cases

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "rules" / "retention.yaml"

CASES = """\
defaults:
  context: {now: 2026-06-01T10:00:00, channel: agent}
  scores: {p_churn: 0.18, clv: 1800, margin: 340}
  fields: {tenure_years: 6, proposed_premium: 960, claims_amount_3y: 0, complaints_12m: 1}
cases:
  - name: ranking
    customer_id: C-RANK-1
    scores:
      uplift: {senior_agent_callback: 0.06, loyalty_discount_5: 0.05}
    expect:
      actions: [loyalty_discount_5]
      absent: [senior_agent_callback]
      reasons: [context_weight:cancel_request_boost]
      rejected: {payment_plan: not_eligible}
  - name: renewal
    customer_id: C-RANK-1
    fields: {years_loss_free: 1, expected_claims_cost: 400, cost_to_serve: 80, segment: mass}
    context: {channel: null, event: renewal_due}
    renewal:
      current_premium: 1000
      proposed_premium: 1040
      new_business_premium: 1200
      churn_at: [[1000, 0.1], [1100, 0.2]]
    expect: {verdict: adjust, recommended_premium: 1000, renewal_action: loyalty_reward}
"""


def _run(tmp_path: Path, text: str) -> list[tuple[str, tuple[str, ...]]]:
    path = tmp_path / "cases.yaml"
    path.write_text(text)
    results = run_cases(load_rule_set(DEMO), load_case_files([path]))
    return [(result.name, result.failures) for result in results]


def test_the_demo_cases_pass() -> None:
    files = sorted((ROOT / "rules" / "cases").glob("*.yaml"))
    results = run_cases(load_rule_set(DEMO), load_case_files(files))
    assert len(results) >= 15
    assert [r for r in results if not r.passed] == []


def test_failures_say_what_was_expected_and_what_came_out(tmp_path: Path) -> None:
    (ranking, ranking_failures), (renewal, renewal_failures) = _run(tmp_path, CASES)
    assert ranking == "ranking"
    assert ranking_failures == (
        "actions: expected ['loyalty_discount_5'], got ['senior_agent_callback', "
        "'loyalty_discount_5'] (senior_agent_callback ev=68.00, loyalty_discount_5 ev=48.24)",
        "absent: senior_agent_callback was offered (senior_agent_callback ev=68.00, "
        "loyalty_discount_5 ev=48.24)",
        "reasons: expected context_weight:cancel_request_boost among [eligible:loyalty_discount_5,"
        " eligible:senior_agent_callback, expected_value:loyalty_discount_5,"
        " expected_value:senior_agent_callback]",
        "rejected: expected payment_plan to fail not_eligible, got no_uplift",
    )
    assert renewal == "renewal"
    assert renewal_failures == (
        "verdict: expected adjust, got approve (the proposed premium satisfies every price policy)",
        "recommended_premium: expected 1,000.00, got 1,040.00",
        "renewal_action: expected loyalty_reward, got none",
    )


def test_names_the_rule_set_does_not_know_fail_the_case(tmp_path: Path) -> None:
    text = CASES.replace("tenure_years: 6", "tenure_yeras: 6").replace(
        "senior_agent_callback: 0.06", "senior_agent_calback: 0.06"
    )
    text = text.replace("channel: agent}", "channel: phone}")
    (_, failures), _ = _run(tmp_path, text)
    assert failures == (
        "fields: unknown field 'tenure_yeras'; did you mean 'tenure_years'?",
        "unknown action 'senior_agent_calback'; did you mean 'senior_agent_callback'?",
        "context.channel: unknown channel 'phone'",
    )


def test_case_files_are_validated_with_locations(tmp_path: Path) -> None:
    bad = CASES.replace("    expect:\n      actions:", "    expct:\n      actions:")
    bad = bad.replace("churn_at: [[1000, 0.1], [1100, 0.2]]", "churn_at: [[1000, 1.5]]")
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    with pytest.raises(RuleSetError) as caught:
        load_case_files([path])
    messages = [str(p) for p in caught.value.problems]
    assert any(
        m.startswith(f"{path}:10:5: cases[0]: unknown key 'expct'; did you mean 'expect'?")
        for m in messages
    )
    assert any("1.5 at 1000 is not a probability" in m for m in messages)


def test_renewal_only_expectations_need_a_renewal(tmp_path: Path) -> None:
    text = CASES.replace(
        "      rejected: {payment_plan: not_eligible}\n", "      verdict: approve\n"
    )
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(RuleSetError, match="need a renewal section"):
        load_case_files([path])
