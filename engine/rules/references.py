"""Cross-references of a rule file: unique ids, and every name pointing at something that exists.

Each problem points at the offending value: the second ``id: x``, the ``budget:`` naming an
unknown budget, the channel in an action's list that the context does not declare.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import document as doc
from .problems import Problem
from .structure import dotted
from .yaml_source import Path, SourceMap, did_you_mean


def check_references(document: doc.RuleSetDocument, source: SourceMap) -> list[Problem]:
    found: list[Problem] = []

    def unique(section: Path, key: str, values: Iterable[str], what: str) -> None:
        seen: dict[str, int] = {}
        for index, value in enumerate(values):
            if value in seen:
                first = f"{dotted(section)}[{seen[value]}]"
                message = f"duplicate {what} '{value}' (also {first})"
                found.append(source.problem((*section, index, key), message))
            seen.setdefault(value, index)

    def known(path: Path, value: str, choices: Iterable[str], what: str) -> None:
        choices = list(choices)
        if value not in choices:
            hint = did_you_mean(value, choices) or (
                f" (known: {', '.join(sorted(choices))})" if choices else f" (no {what}s declared)"
            )
            found.append(source.problem(path, f"unknown {what} '{value}'{hint}"))

    actions = document.actions
    weights = document.arbitration.context_weights
    unique(("actions",), "id", (a.id for a in actions), "action id")
    unique(("budgets",), "name", (b.name for b in document.budgets), "budget name")
    unique(("guardrails",), "id", (g.id for g in document.guardrails), "guardrail id")
    unique(("price_policies",), "id", (p.id for p in document.price_policies), "price policy id")
    unique(("arbitration", "context_weights"), "id", (w.id for w in weights), "context weight id")

    ids = [a.id for a in actions]
    groups = sorted({a.group for a in actions})
    budgets = [b.name for b in document.budgets]
    context = document.context
    nones = [index for index, action in enumerate(actions) if action.kind == "none"]
    for index in nones[1:]:
        found.append(
            source.problem(("actions", index, "kind"), "only one action may be of kind 'none'")
        )
    for index, action in enumerate(actions):
        path: Path = ("actions", index)
        if action.budget is not None:
            known((*path, "budget"), action.budget, budgets, "budget")
        for position, channel in enumerate(action.channels or []):
            known((*path, "channels", position), channel, context.channels, "channel")
        for position, event in enumerate(action.events or []):
            known((*path, "events", position), event, context.events, "event")
    for group in document.arbitration.lever_weights:
        known(("arbitration", "lever_weights", group), group, groups, "action group")
    targeted: list[tuple[Path, doc.Targets]] = [
        (("arbitration", "context_weights", i, "applies_to"), w.applies_to)
        for i, w in enumerate(weights)
    ]
    targeted += [
        (("guardrails", i, "applies_to"), g.applies_to) for i, g in enumerate(document.guardrails)
    ]
    for path, targets in targeted:
        for position, group in enumerate(targets.groups):
            known((*path, "groups", position), group, groups, "action group")
        for position, action_id in enumerate(targets.actions):
            known((*path, "actions", position), action_id, ids, "action")
    offerable = [a.id for a in actions if a.kind != "none"]
    if document.fallback is not None:
        known(("fallback",), document.fallback, offerable, "action")
    for index, policy in enumerate(document.price_policies):
        if policy.offer is not None:
            known(("price_policies", index, "offer"), policy.offer, offerable, "action")
    return found
