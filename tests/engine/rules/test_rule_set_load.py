"""The demo rule set compiles into what the decision core needs; hash, scopes, pickling."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import pytest

from engine.errors import ConfigError
from engine.rules import compile_rule_set, load_rule_set
from engine.rules.expression import StringEnum, ValueType

DEMO = Path(__file__).resolve().parents[3] / "rules" / "retention.yaml"


def test_demo_rule_set_has_the_campaign_actions_and_no_action() -> None:
    rules = load_rule_set(DEMO)
    ids = {action.id for action in rules.actions}
    campaign = {
        "loyalty_discount_5", "loyalty_discount_10", "premium_freeze", "bundle_discount",
        "senior_agent_callback", "payment_plan",
    }  # fmt: skip
    assert campaign <= ids
    assert rules.no_action is not None
    assert rules.no_action.kind == "none"
    assert rules.fallback is not None
    assert rules.fallback.id == "thank_you_note"
    assert rules.formula_is_expected_value
    assert rules.hash == hashlib.sha256(DEMO.read_bytes()).hexdigest()
    assert rules.summary().startswith(
        f"demo-insurer sha256:{rules.hash[:12]} (8 actions + no_action"
    )
    assert rules.summary().endswith("top 3, budgets allocated by shadow_price)")
    assert rules.allocation == "shadow_price"
    assert all(budget.min_value_per_cost == 0.0 for budget in rules.budgets.values())


def test_precomputed_levers_weights_and_guardrails() -> None:
    rules = load_rule_set(DEMO)
    freeze = rules.action("premium_freeze")
    assert freeze.lever == pytest.approx(0.9)
    assert [rules.context_weights[i].id for i in freeze.weights] == ["renewal_pricing_boost"]
    assert [rules.guardrails[i].id for i in freeze.guardrails] == [
        "offer_keeps_margin", "no_discount_after_large_claims",
    ]  # fmt: skip
    callback = rules.action("senior_agent_callback")
    assert callback.guardrails == ()
    assert callback.per_customer_cap is not None
    assert callback.per_customer_cap.window.days == 90
    assert callback.total_cap is not None
    assert callback.total_cap.period == "month"


def test_schema_declares_fields_scores_renewal_prices_and_context() -> None:
    rules = load_rule_set(DEMO)
    assert rules.schema["segment"] == StringEnum.of(["mass", "vip", "affiliated"])
    assert rules.schema["p_churn_at_proposed"] is ValueType.NUMBER
    assert rules.schema["channel"] == StringEnum.of(rules.channels)
    assert "uplift" not in rules.schema  # per action only


def test_a_comment_is_a_new_version() -> None:
    data = DEMO.read_bytes()
    assert compile_rule_set(data).hash != compile_rule_set(data + b"# note\n").hash


def test_rule_sets_pickle_for_batch_workers() -> None:
    rules = load_rule_set(DEMO)
    copy = pickle.loads(pickle.dumps(rules))
    assert copy.hash == rules.hash
    row = {"tenure_years": 3, "margin": 10.0}
    assert copy.action("loyalty_discount_5").eligibility.evaluate(row) is True


def test_unreadable_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_rule_set(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="is a directory"):
        load_rule_set(tmp_path)
