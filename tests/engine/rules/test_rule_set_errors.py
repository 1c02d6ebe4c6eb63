"""Every kind of bad rule file is refused with a precise message at the right line:column."""

from __future__ import annotations

import pytest

from engine.errors import RuleError
from engine.rules import RuleSetError, compile_rule_set

GOOD = """\
version: 1
name: mini
context:
  channels: [agent, email]
  intents: [cancel_request]
  events: [renewal_due]
fields:
  tenure_years: number
  segment: [mass, vip]
actions:
  - id: discount
    group: retention
    kind: discount
    parameters: {pct: 5}
    cost: 0.05 * proposed_premium
    channels: [agent]
    eligibility: tenure_years >= 2 and segment == 'mass'
    script: "Offer {pct}% off {proposed_premium:.2f}"
    budget: main
  - id: nothing
    group: none
    kind: none
arbitration:
  context_weights:
    - id: boost
      when: intent == 'cancel_request'
      weight: 1.5
      applies_to: {groups: [retention]}
      reason: Cancel request.
budgets:
  - {name: main, amount: 1000, period: month}
control_group: {share: 0.1, salt: s}
fallback: discount
price_policies:
  - id: cap
    max_change_pct: 5
    reason: Small increases only.
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(RuleSetError) as caught:
        compile_rule_set(text.encode(), "mini.yaml")
    assert isinstance(caught.value, RuleError)
    assert caught.value.status_code == 422
    return [str(problem) for problem in caught.value.problems]


def _at(text: str, needle: str) -> str:
    """``mini.yaml:line:column`` of the first occurrence of ``needle``."""
    index = text.index(needle)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"mini.yaml:{line}:{column}"


def _one(old: str, new: str) -> tuple[str, str]:
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    (problem,) = _problems(text)
    return problem, text


def test_the_good_file_compiles() -> None:
    rules = compile_rule_set(GOOD.encode(), "mini.yaml")
    assert [a.id for a in rules.actions] == ["discount"]
    assert rules.no_action is not None
    assert rules.no_action.id == "nothing"


def test_malformed_yaml() -> None:
    problem, _ = _one("  channels: [agent, email]", "  channels: [agent, email")
    assert "YAML syntax error" in problem


def test_unknown_key_suggests_the_right_one() -> None:
    problem, text = _one("    eligibility:", "    eligibilty:")
    assert (
        problem == f"{_at(text, 'eligibilty')}: actions[0]: unknown key 'eligibilty'; "
        "did you mean 'eligibility'?"
    )
    problem, text = _one("fallback:", "fallback_action:")
    assert problem.startswith(f"{_at(text, 'fallback_action')}: unknown key 'fallback_action'")


def test_duplicate_ids() -> None:
    text = GOOD.replace(
        "  - id: nothing\n    group: none\n    kind: none\n",
        (
            "  - id: nothing\n    group: none\n    kind: none\n"
            "  - id: discount\n    group: service\n    kind: message\n"
        ),
    )
    (problem,) = _problems(text)
    second = text.index("id: discount", text.index("id: discount") + 1)
    line = text.count("\n", 0, second) + 1
    assert problem == f"mini.yaml:{line}:9: duplicate action id 'discount' (also actions[0])"
    budgets = GOOD.replace(
        "  - {name: main, amount: 1000, period: month}\n",
        "  - {name: main, amount: 1000, period: month}\n  - {name: main, amount: 5, period: day}\n",
    )
    assert "duplicate budget name 'main' (also budgets[0])" in _problems(budgets)[0]


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        (
            "    budget: main",
            "    budget: mian",
            "mian",
            "unknown budget 'mian'; did you mean 'main'?",
        ),
        (
            "fallback: discount",
            "fallback: discont",
            "discont",
            "unknown action 'discont'; did you mean 'discount'?",
        ),
        (
            "fallback: discount",
            "fallback: nothing",
            "nothing\nprice",
            "unknown action 'nothing' (known: discount)",
        ),
        (
            "    channels: [agent]",
            "    channels: [agnet]",
            "agnet",
            "unknown channel 'agnet'; did you mean 'agent'?",
        ),
        (
            "{groups: [retention]}",
            "{groups: [retension]}",
            "retension",
            "unknown action group 'retension'; did you mean 'retention'?",
        ),
        (
            "    max_change_pct: 5",
            "    offer: dicount",
            "dicount",
            "unknown action 'dicount'; did you mean 'discount'?",
        ),
    ],
)
def test_references_to_unknown_things(old: str, new: str, needle: str, message: str) -> None:
    problem, text = _one(old, new)
    assert problem == f"{_at(text, needle)}: {message}"


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        ("cost: 0.05 * proposed_premium", "cost: -3", "-3", "cost is negative (-3)"),
        ("cost: 0.05 * proposed_premium", "cost: 2 - 5", "2 - 5", "cost is negative (-3)"),
        (
            "share: 0.1",
            "share: 1.5",
            "1.5, salt",
            "control_group.share: Input should be less than or equal to 1 (got 1.5)",
        ),
        (
            "share: 0.1",
            "share: -0.1",
            "-0.1",
            "control_group.share: Input should be greater than or equal to 0 (got -0.1)",
        ),
        (
            "amount: 1000",
            "amount: -1",
            "-1",
            "budgets[0].amount: Input should be greater than or equal to 0 (got -1)",
        ),
        (
            "      weight: 1.5",
            "      weight: -1",
            "-1",
            "arbitration.context_weights[0].weight: "
            "Input should be greater than or equal to 0 (got -1)",
        ),
        (
            "      weight: 1.5",
            "      weight: true",
            "true",
            "arbitration.context_weights[0].weight: Input should be a valid number (got True)",
        ),
        ("version: 1", "version: 2", "2", "version: Input should be 1 (got 2)"),
        (
            "period: month}",
            "period: month, min_value_per_cost: -0.5}",
            "-0.5",
            "budgets[0].min_value_per_cost: Input should be greater than or equal to 0 (got -0.5)",
        ),
        (
            "period: month}",
            "period: month, min_value_per_cost: '2'}",
            "'2'",
            "budgets[0].min_value_per_cost: Input should be a valid number (got '2')",
        ),
        (
            "arbitration:\n",
            "arbitration:\n  allocation: value\n",
            "value\n",
            "arbitration.allocation: Input should be 'expected_value', 'value_per_cost' or"
            " 'shadow_price' (got 'value')",
        ),
    ],
)
def test_values_out_of_range(old: str, new: str, needle: str, message: str) -> None:
    problem, text = _one(old, new)
    assert problem == f"{_at(text, needle)}: {message}"


def test_a_pricing_section_compiles() -> None:
    text = GOOD + "pricing:\n  changes_pct: [-5, 0, 5]\n  tolerance_amount: 0\n"
    pricing = compile_rule_set(text.encode(), "mini.yaml").pricing
    assert pricing.changes_pct == (-5.0, 0.0, 5.0)
    assert (pricing.tolerance_amount, pricing.tolerance_pct) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("section", "needle", "message"),
    [
        (
            "pricing:\n  tolerance_pct: -1\n",
            "-1\n",
            "pricing.tolerance_pct: Input should be greater than or equal to 0 (got -1)",
        ),
        (
            "pricing:\n  tolerance_amount: -0.5\n",
            "-0.5",
            "pricing.tolerance_amount: Input should be greater than or equal to 0 (got -0.5)",
        ),
        (
            "pricing: {max_above_proposed_pct: -5}\n",
            "-5}",
            "pricing.max_above_proposed_pct: Input should be greater than or equal to 0 (got -5)",
        ),
        (
            "pricing:\n  changes_pct: []\n",
            "[]",
            "pricing.changes_pct: List should have at least 1 item after validation, not 0",
        ),
        (
            "pricing:\n  changes_pct: [5, 150]\n",
            "150",
            "pricing.changes_pct[1]: Input should be less than or equal to 100 (got 150)",
        ),
        (
            "pricing:\n  toleranse_pct: 2\n",
            "toleranse_pct",
            "pricing: unknown key 'toleranse_pct'; did you mean 'tolerance_pct'?",
        ),
        (
            "pricing:\n  tolerance_amount: true\n",
            "true\n",
            "pricing.tolerance_amount: Input should be a valid number (got True)",
        ),
    ],
)
def test_bad_pricing_is_located(section: str, needle: str, message: str) -> None:
    text = GOOD + section
    (problem,) = _problems(text)
    assert problem == f"{_at(text, needle)}: {message}"


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("__import__('os').system('rm -rf /')", "attribute access (a.b) is not allowed"),
        ("(lambda: 1)() > 0", "lambda is not allowed"),
        ("open('x') == 'y'", "unknown function open()"),
        ("tenure_years.real > 1", "attribute access (a.b) is not allowed"),
        ("[x for x in segment] == 1", "comprehensions are not allowed"),
    ],
)
def test_unsafe_expressions_are_refused(expression: str, reason: str) -> None:
    problem, _ = _one(
        "eligibility: tenure_years >= 2 and segment == 'mass'", f'eligibility: "{expression}"'
    )
    assert reason in problem


def test_unknown_field_in_an_expression_points_at_it() -> None:
    problem, text = _one("tenure_years >= 2 and segment", "tenure_yeras >= 2 and segment")
    where = _at(text, "tenure_yeras")
    assert (
        problem.split("\n")[0]
        == f"{where}: unknown field 'tenure_yeras'; did you mean 'tenure_years'?"
    )
    assert problem.split("\n")[2].strip() == "^" * len("tenure_yeras")


def test_enum_typo_and_type_errors() -> None:
    problem, text = _one("segment == 'mass'", "segment == 'mas'")
    assert problem.startswith(
        f"{_at(text, chr(39) + 'mas' + chr(39))}: 'mas' is not a value segment can take"
    )
    problem, _ = _one("segment == 'mass'", "segment > 3")
    assert "cannot compare segment (a string) with 3 (a number)" in problem


def test_scopes_context_weights_cannot_read_per_action_scores() -> None:
    problem, _ = _one("when: intent == 'cancel_request'", "when: uplift > 0.1")
    assert "unknown field 'uplift'" in problem


def test_script_placeholders_are_checked() -> None:
    problem, text = _one("{proposed_premium:.2f}", "{proposed_premum:.2f}")
    assert (
        problem == f"{_at(text, 'proposed_premum')}: unknown placeholder {{proposed_premum}}; "
        "did you mean 'proposed_premium'?"
    )
    problem, _ = _one("{pct}%", "{pct.__class__}%")
    assert "must be a plain name" in problem
    problem, _ = _one("{proposed_premium:.2f}", "{segment:.2f}")
    assert "format '.2f' does not fit segment (string)" in problem
    problem, _ = _one("{pct}%", "{pct!r}%")
    assert "conversions" in problem


def test_names_that_clash_with_built_ins() -> None:
    problem, text = _one("  tenure_years: number\n", "  tenure_years: number\n  margin: number\n")
    assert (
        problem
        == f"{_at(text, 'margin:')}: 'margin' is built in (a score, renewal price or context "
        "value): remove it from fields"
    )
    problems = _problems(GOOD.replace("parameters: {pct: 5}", "parameters: {tenure_years: 5}"))
    assert "parameter 'tenure_years' has the name of a field or score: rename it" in problems[0]
    assert "unknown placeholder {pct}" in problems[1]


def test_structural_rules() -> None:
    problem, _ = _one("    max_change_pct: 5\n", "")
    assert "a price policy needs an effect" in problem
    problem, _ = _one(
        "    channels: [agent]\n",
        "    channels: [agent]\n    valid_from: 2026-05-01\n    valid_until: 2026-04-01\n",
    )
    assert "valid_from 2026-05-01 is after valid_until 2026-04-01" in problem
    problem, _ = _one(
        "  - id: nothing\n    group: none\n    kind: none\n",
        "  - id: nothing\n    group: none\n    kind: none\n    cost: 3\n",
    )
    assert "an action of kind 'none' costs nothing" in problem
    problem, _ = _one(
        "  - id: nothing\n", "  - id: nothing\n    group: none\n    kind: none\n  - id: nothing2\n"
    )
    assert "only one action may be of kind 'none'" in problem


def test_every_problem_is_reported_at_once() -> None:
    text = (
        GOOD.replace("    budget: main", "    budget: mian")
        .replace("share: 0.1", "share: 2")
        .replace("tenure_years >= 2", "tenure >= 2")
    )
    # Structure first: with a value out of range the references are not checked yet.
    assert len(_problems(text)) == 1
    problems = _problems(text.replace("share: 2", "share: 0.2"))
    assert [p.split(": ", 1)[1].split(";")[0] for p in problems] == [
        "unknown field 'tenure'",
        "unknown budget 'mian'",
    ]
    with pytest.raises(RuleSetError) as caught:
        compile_rule_set(text.replace("share: 2", "share: 0.2").encode(), "mini.yaml")
    assert str(caught.value).startswith("mini.yaml: 2 problems\n")


def test_not_a_mapping_and_not_utf8() -> None:
    assert _problems("- a\n- b\n") == [
        "mini.yaml:1:1: a rule file is a mapping (version, name, ...)"
    ]
    with pytest.raises(RuleSetError, match="not UTF-8"):
        compile_rule_set(b"name: \xff\n", "mini.yaml")


def test_allocation_and_budget_prices_compile_onto_the_rule_set() -> None:
    text = GOOD.replace("arbitration:\n", "arbitration:\n  allocation: shadow_price\n").replace(
        "period: month}", "period: month, min_value_per_cost: 2.5}"
    )
    rules = compile_rule_set(text.encode(), "mini.yaml")
    assert rules.allocation == "shadow_price"
    assert rules.budgets["main"].min_value_per_cost == 2.5
    assert rules.action("discount").budget_price == 2.5
    plain = compile_rule_set(GOOD.encode(), "mini.yaml")
    assert plain.allocation == "expected_value"
    assert plain.budgets["main"].min_value_per_cost == 0.0
    assert plain.action("discount").budget_price == 0.0
