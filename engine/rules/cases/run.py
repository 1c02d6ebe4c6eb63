"""Run example cases against a rule set and say, per case, what differed from the expectation.

A case runs the pure decision core exactly as the service would: ``decide`` for a plain
case, ``check_renewal`` when it has a ``renewal`` section (then ``actions``, ``absent`` and
``reasons`` refer to the renewal's action and reasons). Names a case uses that the rule set
does not know (fields, actions, channels) fail the case rather than pass silently.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np

from engine.decision import (
    ContactSnapshot,
    Context,
    OfferRecord,
    RenewalPrices,
    Scores,
    check_renewal,
    decide,
)
from engine.decision.inputs import Numbers
from engine.decision.result import Candidate, Reason
from engine.errors import RuleError

from ..loader import read_rule_file
from ..problems import Problem, RuleSetError
from ..ruleset import RuleSet
from ..structure import validate
from ..yaml_source import SourceMap, did_you_mean, load_yaml
from .schema import Case, CaseContext, CaseFile, Expectation

_CONTEXT = ("channel", "intent", "event")


@dataclass(frozen=True, slots=True)
class CaseResult:
    name: str
    file: str
    line: int
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def load_case_files(paths: Sequence[str | os.PathLike[str]]) -> list[tuple[CaseFile, SourceMap]]:
    """Load every case file; ``RuleSetError`` lists the problems of all of them."""
    loaded: list[tuple[CaseFile, SourceMap]] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            data = read_rule_file(path)
            raw, source = load_yaml(data.decode("utf-8", errors="replace"), str(path))
            if not isinstance(raw, dict):
                raise RuleSetError(
                    [source.problem((), "a case file is a mapping (defaults, cases)")]
                )
            loaded.append((validate(CaseFile, raw, source), source))
        except RuleSetError as error:
            problems.extend(error.problems)
    if problems:
        raise RuleSetError(problems)
    return loaded


def run_cases(rules: RuleSet, files: Sequence[tuple[CaseFile, SourceMap]]) -> list[CaseResult]:
    results = []
    for case_file, source in files:
        for index, case in enumerate(case_file.cases):
            problem = source.problem(("cases", index), "")
            try:
                failures = _run(rules, case_file, case)
            except (RuleError, ValueError, TypeError, KeyError) as error:
                failures = [f"the case cannot run: {error}"]
            results.append(CaseResult(case.name, source.file, problem.line, tuple(failures)))
    return results


def _run(rules: RuleSet, case_file: CaseFile, case: Case) -> list[str]:
    defaults = case_file.defaults
    fields = {**defaults.fields, **case.fields}
    context_in = defaults.context.model_copy(update=case.context.model_dump(exclude_unset=True))
    problems = _unknown_names(rules, case, fields, context_in)
    if problems:
        return problems
    if context_in.now is None:
        return ["context.now is missing (give it in defaults.context or in the case)"]
    now = _moment(context_in.now)
    context = Context(
        now=now, channel=context_in.channel, intent=context_in.intent, event=context_in.event
    )
    scores_in = defaults.scores.model_copy(update=case.scores.model_dump(exclude_unset=True))
    uplift = {**defaults.scores.uplift, **case.scores.uplift}
    scores = Scores(
        p_churn=_float(scores_in.p_churn),
        clv=_float(scores_in.clv),
        margin=_float(scores_in.margin),
        uplift={action: _float(value) for action, value in uplift.items()},
    )
    history = ContactSnapshot(
        offers=tuple(
            OfferRecord(o.action, now - timedelta(days=o.days_ago)) for o in case.history.offers
        ),
        declined_at=None
        if case.history.declined_days_ago is None
        else now - timedelta(days=case.history.declined_days_ago),
    )
    expect = case.expect
    if case.renewal is None:
        decision = decide(rules, case.customer_id, fields, scores, context, history)
        reasons = [*decision.reasons, *(r for c in decision.candidates for r in c.reasons)]
        failures = _compare_actions(expect, decision.candidates, reasons)
        failures += _flag("control_group", expect.control_group, decision.control_group)
        failures += _flag("fallback_used", expect.fallback_used, decision.fallback_used)
        got = {r.action_id: r.code for r in decision.rejected}
        for action, code in expect.rejected.items():
            if got.get(action, "offered") != code:
                failures.append(
                    f"rejected: expected {action} to fail {code}, got {got.get(action, 'offered')}"
                )
        return failures
    renewal = case.renewal
    points = sorted((float(p), float(q)) for p, q in renewal.churn_at)
    premiums, probabilities = np.array([p for p, _ in points]), np.array([q for _, q in points])

    def p_churn_at(at: Numbers) -> Numbers:
        found: Numbers = np.interp(at, premiums, probabilities)
        return found

    prices = RenewalPrices(
        renewal.current_premium,
        renewal.proposed_premium,
        _float(renewal.new_business_premium),
    )
    verdict = check_renewal(
        rules, case.customer_id, fields, scores, prices, p_churn_at, context, history
    )
    offered = (verdict.action,) if verdict.action else ()
    reasons = [*verdict.reasons, *(r for c in offered for r in c.reasons)]
    failures = _compare_actions(expect, offered, reasons)
    failures += _flag("control_group", expect.control_group, verdict.control_group)
    if expect.verdict is not None and verdict.verdict != expect.verdict:
        why = "; ".join(r.text for r in verdict.reasons)
        failures.append(f"verdict: expected {expect.verdict}, got {verdict.verdict} ({why})")
    wanted = expect.recommended_premium
    if wanted is not None and abs(verdict.recommended_premium - wanted) >= 0.005:
        failures.append(
            f"recommended_premium: expected {wanted:,.2f}, got {verdict.recommended_premium:,.2f}"
        )
    if expect.renewal_action is not None:
        want = None if expect.renewal_action is False else expect.renewal_action
        got_action = verdict.action.action_id if verdict.action else None
        if got_action != want:
            failures.append(
                f"renewal_action: expected {want or 'none'}, got {got_action or 'none'}"
            )
    return failures


def _compare_actions(
    expect: Expectation, offered: Sequence[Candidate], reasons: Sequence[Reason]
) -> list[str]:
    got = [c.action_id for c in offered]
    failures = []
    if expect.actions is not None and got != expect.actions:
        failures.append(f"actions: expected {expect.actions}, got {got}{_values(offered)}")
    if expect.action_set is not None and sorted(got) != sorted(expect.action_set):
        failures.append(f"action_set: expected {sorted(expect.action_set)}, got {sorted(got)}")
    for action in expect.absent:
        if action in got:
            failures.append(f"absent: {action} was offered{_values(offered)}")
    codes = {r.code for r in reasons} | {f"{r.code}:{r.rule}" for r in reasons}
    for wanted in expect.reasons:
        if wanted not in codes:
            listed = ", ".join(sorted(f"{r.code}:{r.rule}" if r.rule else r.code for r in reasons))
            failures.append(f"reasons: expected {wanted} among [{listed}]")
    return failures


def _values(offered: Sequence[Candidate]) -> str:
    if not offered:
        return ""
    parts = []
    for c in offered:
        part = c.action_id
        if c.expected_value is not None:
            part += f" ev={c.expected_value:,.2f}"
        if c.score is not None and c.score != c.expected_value:
            part += f" score={c.score:,.2f}"
        parts.append(part)
    return f" ({', '.join(parts)})"


def _flag(name: str, expected: bool | None, got: bool) -> list[str]:
    return (
        [] if expected is None or expected == got else [f"{name}: expected {expected}, got {got}"]
    )


def _unknown_names(
    rules: RuleSet, case: Case, fields: Mapping[str, object], context: CaseContext
) -> list[str]:
    problems = []
    known_fields = [name for name in rules.schema if name not in _CONTEXT]
    for name in fields:
        if name not in rules.schema or name in _CONTEXT:
            problems.append(f"fields: unknown field '{name}'{did_you_mean(name, known_fields)}")
    actions = list(rules.by_id)
    named = [*case.scores.uplift, *(o.action for o in case.history.offers)]
    expect = case.expect
    named += [*(expect.actions or []), *(expect.action_set or []), *expect.absent, *expect.rejected]
    if isinstance(expect.renewal_action, str):
        named.append(expect.renewal_action)
    for action in dict.fromkeys(named):
        if action not in actions:
            problems.append(f"unknown action '{action}'{did_you_mean(action, actions)}")
    for name, value, allowed in (
        ("channel", context.channel, rules.channels),
        ("intent", context.intent, rules.intents),
        ("event", context.event, rules.events),
    ):
        if value is not None and value not in allowed:
            problems.append(
                f"context.{name}: unknown {name} '{value}'{did_you_mean(value, allowed)}"
            )
    return problems


def _moment(value: datetime | date) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, time())


def _float(value: float | None) -> float:
    return float("nan") if value is None else float(value)
