"""``training.simulation``: report shape, budgets, oracles, baselines, allocation, diffs."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.rules import RuleSet, load_rule_set
from engine.scoring.bundle import ModelBundle
from training.simulation import SimulationOptions, diff_rule_sets, simulate
from training.simulation.policies import ENGINE, NO_ACTION, ORACLE, ORACLE_SHADOW_PRICE

from .conftest import DEMO_RULES

OPTIONS = SimulationOptions(now=datetime(2026, 11, 23))
POLICIES = (
    ENGINE,
    NO_ACTION,
    "top_decile_discount_10",
    "cheapest_offer",
    ORACLE,
    "oracle_within_rules",
    "oracle_greedy",
    "oracle_value_per_cost",
    ORACLE_SHADOW_PRICE,
)


def _rules(tmp_path: Path, name: str, *edits: tuple[str, str]) -> RuleSet:
    text = DEMO_RULES.read_text()
    for pattern, replacement in edits:
        text, count = re.subn(pattern, replacement, text)
        assert count, pattern
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return load_rule_set(path)


def _unbounded(tmp_path: Path, *edits: tuple[str, str]) -> RuleSet:
    """The demo rules with budgets and total caps too large to bind."""
    return _rules(
        tmp_path,
        "unbounded",
        (r"amount: \d+", "amount: 1000000000"),
        (r"total: \{max_offers: \d+", "total: {max_offers: 100000000"),
        *edits,
    )


def test_report_has_every_policy_and_the_renewal_money(
    sim_frame: pd.DataFrame, sim_bundle: ModelBundle
) -> None:
    report = simulate(load_rule_set(DEMO_RULES), sim_frame, sim_bundle, OPTIONS).report
    assert report["truth"] is True
    for name in POLICIES:
        policy = report["policies"][name]
        for key in ("contacts", "cost", "expected_net_value", "true_net_value"):
            assert isinstance(policy[key], int | float), (name, key)
        assert sum(s["contacts"] for s in policy["by_segment"].values()) == policy["contacts"]
    for name in ("engine", "approve_all"):
        renewal = report["renewals"][name]
        for key in ("customers_kept", "premium_income", "true_net_value"):
            assert renewal[key] > 0, (name, key)
    assert sum(report["renewals"]["verdicts"].values()) == len(sim_frame)
    assert report["allocation"] == "shadow_price"
    assert set(report["shadow_prices"]) == set(report["budgets"])
    assert all(price >= 0 for price in report["shadow_prices"].values())


def test_by_action_splits_every_policys_figures_without_remainder(
    sim_frame: pd.DataFrame, sim_bundle: ModelBundle
) -> None:
    report = simulate(load_rule_set(DEMO_RULES), sim_frame, sim_bundle, OPTIONS).report
    for name in POLICIES:
        policy = report["policies"][name]
        parts = policy["by_action"]
        assert {a: p["contacts"] for a, p in parts.items()} == {
            a: n for a, n in policy["action_mix"].items() if a != "none"
        }, name
        for key in ("cost", "expected_net_value", "true_net_value", "true_retained"):
            total = sum(p[key] for p in parts.values())
            assert total == pytest.approx(policy[key], rel=1e-9, abs=1e-6), (name, key)


def _tight(tmp_path: Path, *edits: tuple[str, str]) -> RuleSet:
    """The demo rules with budgets and a cap small enough to bind on the test book."""
    return _rules(
        tmp_path,
        "tight",
        (r"amount: 250000", "amount: 6000"),
        (r"amount: 150000", "amount: 3000"),
        (r"amount: 40000", "amount: 1500"),
        (r"total: \{max_offers: 8000", "total: {max_offers: 30"),
        *edits,
    )


def test_the_rule_files_allocation_decides_and_shadow_price_earns_the_most_expected_value(
    sim_frame: pd.DataFrame, sim_bundle: ModelBundle, tmp_path: Path
) -> None:
    expected = {}
    for how in ("expected_value", "value_per_cost", "shadow_price"):
        rules = _tight(tmp_path, (r"allocation: shadow_price", f"allocation: {how}"))
        report = simulate(rules, sim_frame, sim_bundle, OPTIONS).report
        assert report["allocation"] == how
        expected[how] = report["policies"][ENGINE]["expected_net_value"]
        prices = report["shadow_prices"]
        assert prices["retention_discounts"] > 0  # 6,000 binds
    # The priced allocation is near the optimum in the model's own view (the other two
    # are greedy heuristics); allow rounding at the margin.
    assert expected["shadow_price"] >= max(expected.values()) * (1 - 1e-3)
    assert expected["shadow_price"] > expected["expected_value"]


def test_diff_of_two_allocations_changes_decisions_not_eligibility(
    sim_frame: pd.DataFrame, sim_bundle: ModelBundle, tmp_path: Path
) -> None:
    old = _tight(tmp_path, (r"allocation: shadow_price", "allocation: expected_value"))
    new = _tight(tmp_path)
    result = diff_rule_sets(old, new, sim_frame, sim_bundle, OPTIONS)
    assert result.changed > 0
    report = result.report
    assert report["new"]["expected_net_value"] > report["old"]["expected_net_value"]
    simulated = simulate(new, sim_frame, sim_bundle, OPTIONS).report["policies"][ENGINE]
    assert report["new"]["expected_net_value"] == pytest.approx(simulated["expected_net_value"])


def test_no_policy_overspends_a_budget_or_a_cap(
    sim_frame: pd.DataFrame, sim_bundle: ModelBundle, tmp_path: Path
) -> None:
    rules = _tight(tmp_path)
    result = simulate(rules, sim_frame, sim_bundle, OPTIONS)
    bound = False
    for policy in result.policies:
        spent = policy.spent()
        for name, budget in rules.budgets.items():
            assert spent[name] <= budget.amount + 1e-6, (policy.name, name)
            bound |= spent[name] > 0.9 * budget.amount
        for action in rules.actions:
            if action.total_cap is not None:
                given = int((policy.chosen == action.index).sum())
                assert given <= action.total_cap.max_offers, (policy.name, action.id)
    assert bound  # the test means something only if some budget binds


def test_without_binding_budgets_the_oracle_beats_every_policy(
    sim_frame: pd.DataFrame, sim_bundle: ModelBundle, tmp_path: Path
) -> None:
    # The property that holds exactly: when nothing binds, every customer gets the action
    # with the highest true net value, so no policy over the same actions can earn more.
    result = simulate(_unbounded(tmp_path), sim_frame, sim_bundle, OPTIONS)
    values = {n: p["true_net_value"] for n, p in result.report["policies"].items()}
    for name, value in values.items():
        assert values[ORACLE] >= value - 1e-6, name
    # Nothing binds: every budget's shadow price is 0 and the priced oracle is the oracle.
    assert set(result.report["shadow_prices"].values()) == {0.0}
    assert values[ORACLE_SHADOW_PRICE] == pytest.approx(values[ORACLE])
    m = result.matrices
    assert m.truth is not None
    best = np.where(m.allowed & m.truth.valued[None, :], m.truth.net_value, -np.inf).max(axis=1)
    oracle = result.policy(ORACLE)
    assert np.allclose(oracle.per_row(m.truth.net_value), np.maximum(best, 0.0))


def test_under_binding_budgets_the_oracle_is_the_best_of_its_allocations(
    sim_frame: pd.DataFrame, sim_bundle: ModelBundle, tmp_path: Path
) -> None:
    result = simulate(_tight(tmp_path), sim_frame, sim_bundle, OPTIONS)
    values = {n: p["true_net_value"] for n, p in result.report["policies"].items()}
    ways = [values[n] for n in ("oracle_greedy", "oracle_value_per_cost", ORACLE_SHADOW_PRICE)]
    assert values[ORACLE] == max(ways)
    assert len(set(ways)) > 1  # budgets bind: the three allocations differ
    # limited to the rule set's eligibility it has fewer choices (with heuristics not a
    # theorem, but it holds on this data)
    assert values["oracle_within_rules"] <= values[ORACLE] + 1e-6


def test_no_action_costs_nothing_and_earns_nothing(
    sim_frame: pd.DataFrame, sim_bundle: ModelBundle
) -> None:
    report = simulate(load_rule_set(DEMO_RULES), sim_frame, sim_bundle, OPTIONS).report
    nothing = report["policies"][NO_ACTION]
    assert nothing["contacts"] == 0
    for key in ("cost", "expected_net_value", "true_net_value", "true_cost"):
        assert nothing[key] == 0.0


def test_diff_of_a_rule_set_with_itself_changes_nothing(
    sim_frame: pd.DataFrame, sim_bundle: ModelBundle
) -> None:
    rules = load_rule_set(DEMO_RULES)
    report = diff_rule_sets(rules, rules, sim_frame, sim_bundle, OPTIONS).report
    assert report["changed"] == 0
    assert report["transitions"] == []
    assert all(value == 0 for value in report["difference"].values())


def test_diff_after_a_cost_change_moves_exactly_that_actions_customers(
    sim_frame: pd.DataFrame, sim_bundle: ModelBundle, tmp_path: Path
) -> None:
    old = _unbounded(tmp_path)
    new = _unbounded(tmp_path, (r"cost: 40\n", "cost: 1000000\n"))
    result = diff_rule_sets(old, new, sim_frame, sim_bundle, OPTIONS)
    was_callback = result.old == "senior_agent_callback"
    assert was_callback.any()
    assert (result.new != "senior_agent_callback").all()
    assert np.array_equal(result.old != result.new, was_callback)
    assert result.report["changed"] == int(was_callback.sum())


def test_diff_after_a_min_score_change_drops_exactly_the_low_scores(
    sim_frame: pd.DataFrame, sim_bundle: ModelBundle, tmp_path: Path
) -> None:
    old = _unbounded(tmp_path)
    simulation = simulate(old, sim_frame, sim_bundle, OPTIONS)
    engine = simulation.policy(ENGINE)
    batch = simulation.matrices.batch
    given = engine.chosen >= 0
    # The engine gives each customer the candidate of highest *value*, not of highest
    # score: what a higher min_score removes is the chosen candidate's own score.
    rank = np.argmax(batch.slots == engine.chosen[:, None], axis=1)
    chosen_score = np.where(given, batch.score[np.arange(len(rank)), rank], np.nan)
    threshold = float(np.nanmedian(chosen_score[given]))
    new = _unbounded(tmp_path, (r"min_score: 0\n", f"min_score: {threshold}\n"))
    result = diff_rule_sets(old, new, sim_frame, sim_bundle, OPTIONS)
    expected = given & (chosen_score <= threshold)
    assert expected.any()
    assert np.array_equal(result.old != result.new, expected)
    scores = np.where(batch.slots >= 0, np.nan_to_num(batch.score, nan=-np.inf), -np.inf)
    another_passes = (scores > threshold).any(axis=1)
    assert (result.new[expected & ~another_passes] == "none").all()
    assert (result.new[expected & another_passes] != "none").all()


def test_a_book_without_truth_reports_model_figures_only(
    sim_frame: pd.DataFrame, sim_bundle: ModelBundle
) -> None:
    plain = sim_frame.drop(columns=[c for c in sim_frame.columns if c.startswith("truth_")])
    report = simulate(load_rule_set(DEMO_RULES), plain, sim_bundle, OPTIONS).report
    assert report["truth"] is False
    assert ORACLE not in report["policies"]
    assert "true_net_value" not in report["policies"][ENGINE]
    assert report["renewals"]["basis"] == "model"


@pytest.mark.parametrize("column", ["proposed_premium", "years_loss_free"])
def test_check_book_names_a_missing_column(
    sim_frame: pd.DataFrame, sim_bundle: ModelBundle, column: str
) -> None:
    from engine.errors import DataContractError
    from training.simulation.book import check_book

    with pytest.raises(DataContractError, match=column):
        check_book(sim_frame.drop(columns=[column]), load_rule_set(DEMO_RULES), sim_bundle, "b")
