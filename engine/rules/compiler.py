"""A validated ``RuleSetDocument`` to a ``RuleSet``: names resolved, expressions compiled.

Everything that needs more than one value at a time is checked here: duplicate ids,
references to actions, budgets, groups, channels and events that do not exist, field names
that shadow built-in ones, expressions (names and types, against the namespace each one
sees) and script placeholders. Problems are collected, so one run reports all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Literal, overload

from engine.errors import RuleError
from engine.rules.expression import (
    Condition,
    ExpressionError,
    FieldType,
    Formula,
    compile_expression,
)

from . import document as doc
from .namespace import BUILT_IN, Namespaces, field_type
from .problems import Problem, RuleSetError
from .references import check_references
from .ruleset import (
    BudgetRule,
    CompiledAction,
    CompiledContextWeight,
    CompiledGuardrail,
    CompiledPricePolicy,
    ContactPolicyRule,
    ControlGroupRule,
    CustomerCap,
    PriceSearch,
    RuleSet,
    TotalCap,
)
from .templates import ScriptTemplate, TemplateError, compile_template
from .yaml_source import Path, SourceMap

DEFAULT_FORMULA = "uplift * clv - cost"


def compile_document(document: doc.RuleSetDocument, source: SourceMap, digest: str) -> RuleSet:
    """Raise ``RuleSetError`` listing every problem, or return the compiled rule set."""
    return _Compiler(document, source).run(digest)


def _price_search(pricing: doc.Pricing | None) -> PriceSearch:
    if pricing is None:
        return PriceSearch()
    return PriceSearch(
        changes_pct=tuple(float(change) for change in pricing.changes_pct),
        max_above_proposed_pct=pricing.max_above_proposed_pct,
        tolerance_pct=pricing.tolerance_pct,
        tolerance_amount=pricing.tolerance_amount,
    )


class _Compiler:
    def __init__(self, document: doc.RuleSetDocument, source: SourceMap) -> None:
        self.doc = document
        self.source = source
        self.problems: list[Problem] = check_references(document, source)
        fields = self._fields()
        context = document.context
        self.names = Namespaces.build(fields, context.channels, context.intents, context.events)

    def run(self, digest: str) -> RuleSet:
        doc_ = self.doc
        weights = tuple(
            self._context_weight(i, w) for i, w in enumerate(doc_.arbitration.context_weights)
        )
        guardrails = tuple(self._guardrail(i, g) for i, g in enumerate(doc_.guardrails))
        formula = self._compile(
            doc_.arbitration.formula, self.names.per_action, "number", ("arbitration", "formula")
        )
        actions: list[CompiledAction] = []
        no_action = None
        for position, action in enumerate(doc_.actions):
            rank = -1 if action.kind == "none" else len(actions)
            compiled = self._action(position, action, rank)
            if action.kind == "none":
                no_action = compiled
            else:
                actions.append(compiled)
        policies = tuple(self._policy(i, p) for i, p in enumerate(doc_.price_policies))
        if self.problems:
            raise RuleSetError(sorted(self.problems, key=lambda p: (p.line, p.column)))
        by_id = {action.id: action for action in actions}
        if no_action is not None:
            by_id[no_action.id] = no_action
        contact = doc_.contact_policy
        control = doc_.control_group
        return RuleSet(
            name=doc_.name,
            description=doc_.description,
            hash=digest,
            file=self.source.file,
            schema=self.names.customer,
            actions=tuple(actions),
            no_action=no_action,
            context_weights=weights,
            guardrails=guardrails,
            formula=formula,
            formula_is_expected_value=" ".join(formula.text.split()) == DEFAULT_FORMULA,
            min_score=doc_.arbitration.min_score,
            top_k=doc_.arbitration.top_k,
            contact_policy=None
            if contact is None
            else ContactPolicyRule(
                contact.max_offers,
                timedelta(days=contact.window_days),
                timedelta(days=contact.cooldown_after_decline_days),
            ),
            budgets={
                b.name: BudgetRule(
                    b.name, b.amount, b.period, b.description, b.min_value_per_cost or 0.0
                )
                for b in doc_.budgets
            },
            control_group=None
            if control is None
            else ControlGroupRule(control.share, control.salt),
            fallback=by_id[doc_.fallback] if doc_.fallback else None,
            price_policies=policies,
            channels=tuple(doc_.context.channels),
            intents=tuple(doc_.context.intents),
            events=tuple(doc_.context.events),
            by_id=by_id,
            pricing=_price_search(doc_.pricing),
            allocation=doc_.arbitration.allocation,
        )

    def _fields(self) -> dict[str, FieldType]:
        fields: dict[str, FieldType] = {}
        for name, declared in self.doc.fields.items():
            if name in BUILT_IN:
                self.problems.append(
                    self.source.problem(
                        ("fields", name),
                        f"'{name}' is built in (a score, renewal price or context value):"
                        " remove it from fields",
                        at_key=True,
                    )
                )
                continue
            fields[name] = field_type(declared)
        return fields

    def _action(self, position: int, action: doc.Action, rank: int) -> CompiledAction:
        path: Path = ("actions", position)
        params = dict(action.parameters)
        for name in params:
            if name in self.names.per_action:
                self.problems.append(
                    self.source.problem(
                        (*path, "parameters", name),
                        f"parameter '{name}' has the name of a field or score: rename it",
                        at_key=True,
                    )
                )
        cost = self._compile(action.cost, self.names.cost(params), "number", (*path, "cost"))
        if not cost.fields and action.cost != "0":
            constant = cost.evaluate({})
            if not constant >= 0:  # NaN too
                self.problems.append(
                    self.source.problem((*path, "cost"), f"cost is negative ({constant:g})")
                )
        if action.kind == "none" and action.cost != "0":
            self.problems.append(
                self.source.problem((*path, "cost"), "an action of kind 'none' costs nothing")
            )
        schema = self.names.action(params)
        eligibility = self._compile(action.eligibility, schema, "condition", (*path, "eligibility"))
        lever = action.lever_weight * self.doc.arbitration.lever_weights.get(action.group, 1.0)
        caps = action.caps
        return CompiledAction(
            index=rank,
            id=action.id,
            group=action.group,
            kind=action.kind,
            description=action.description,
            reason=action.reason or f"eligible for {action.id}",
            parameters=params,
            cost=cost,
            eligibility=eligibility,
            channels=None if action.channels is None else frozenset(action.channels),
            events=None if action.events is None else frozenset(action.events),
            valid_from=action.valid_from,
            valid_until=action.valid_until,
            script=self._template(action.script, schema, (*path, "script")),
            per_customer_cap=None
            if caps.per_customer is None
            else CustomerCap(
                caps.per_customer.max_offers, timedelta(days=caps.per_customer.window_days)
            ),
            total_cap=None
            if caps.total is None
            else TotalCap(caps.total.max_offers, caps.total.period),
            budget=action.budget,
            lever=lever,
            weights=self._targeting(action, self.doc.arbitration.context_weights),
            guardrails=self._targeting(action, self.doc.guardrails),
            budget_price=self._budget_price(action.budget),
        )

    def _budget_price(self, name: str | None) -> float:
        for budget in self.doc.budgets:
            if budget.name == name:
                return budget.min_value_per_cost or 0.0
        return 0.0

    def _context_weight(self, index: int, weight: doc.ContextWeight) -> CompiledContextWeight:
        path = ("arbitration", "context_weights", index, "when")
        when = self._compile(weight.when, self.names.customer, "condition", path)
        return CompiledContextWeight(weight.id, when, weight.weight, weight.reason)

    def _guardrail(self, index: int, guardrail: doc.Guardrail) -> CompiledGuardrail:
        path = ("guardrails", index, "require")
        require = self._compile(guardrail.require, self.names.per_action, "condition", path)
        return CompiledGuardrail(guardrail.id, require, guardrail.reason)

    def _policy(self, index: int, policy: doc.PricePolicy) -> CompiledPricePolicy:
        path: Path = ("price_policies", index)
        schema = self.names.customer
        when = self._compile(policy.when, schema, "condition", (*path, "when"))
        bounds = [
            None if text is None else self._compile(text, schema, "number", (*path, key))
            for key, text in (
                ("max_premium", policy.max_premium),
                ("min_premium", policy.min_premium),
            )
        ]
        return CompiledPricePolicy(
            id=policy.id,
            when=when,
            max_change_pct=policy.max_change_pct,
            max_premium=bounds[0],
            min_premium=bounds[1],
            review=policy.review,
            offer=policy.offer,
            reason=policy.reason,
        )

    @staticmethod
    def _targeting(
        action: doc.Action, rules: Iterable[doc.ContextWeight | doc.Guardrail]
    ) -> tuple[int, ...]:
        return tuple(
            index
            for index, rule in enumerate(rules)
            if (not rule.applies_to.groups and not rule.applies_to.actions)
            or action.group in rule.applies_to.groups
            or action.id in rule.applies_to.actions
        )

    @overload
    def _compile(
        self, text: str, schema: Mapping[str, FieldType], kind: Literal["condition"], path: Path
    ) -> Condition: ...
    @overload
    def _compile(
        self, text: str, schema: Mapping[str, FieldType], kind: Literal["number"], path: Path
    ) -> Formula: ...
    def _compile(
        self,
        text: str,
        schema: Mapping[str, FieldType],
        kind: Literal["condition", "number"],
        path: Path,
    ) -> Condition | Formula:
        located, origin = self.source.expression(path, text)
        try:
            return compile_expression(located, schema, kind, origin)
        except ExpressionError as error:
            excerpt = str(error).split("\n", 1)[1:]
            message = "\n".join([error.reason, *excerpt])
            self.problems.append(Problem(error.file, error.line, error.column, message))
        except RuleError as error:
            self.problems.append(self.source.problem(path, error.message))
        # A stand-in so compilation goes on and reports the file's other problems too.
        return compile_expression("False" if kind == "condition" else "0", {}, kind)

    def _template(self, text: str, schema: Mapping[str, FieldType], path: Path) -> ScriptTemplate:
        try:
            return compile_template(text, schema)
        except TemplateError as error:
            line, column = self.source.position(path, error.offset)
            self.problems.append(Problem(self.source.file, line, column, error.reason))
            return ScriptTemplate(text, ((text, "", ""),))
