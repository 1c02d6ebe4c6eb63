"""The contract itself: which columns a table has, of what kind, and which role each plays.

A contract has two parts. ``columns`` says what each used column looks like -- declared once,
with its ``kind`` -- and ``roles`` says what the columns mean::

    name: telco
    columns:
      customerID: {kind: string}
      Churn: {kind: boolean, true_values: ["Yes"]}          # false_values derived: ["No"]
      Contract: {kind: categorical, values: [Month-to-month, One year, Two year]}
      tenure: {kind: integer, min: 0}
      TotalCharges: {kind: float, min: 0, nullable: true}
    roles:
      id: customerID
      label: Churn
      features: [Contract, tenure, TotalCharges]

Kinds: ``float``, ``integer`` (whole numbers; ``2.5`` is refused), ``boolean`` (true/false or
1/0, or the declared ``true_values``/``false_values``; loaded as 0/1 so a boolean feature is a
numeric feature), ``categorical`` (text, optionally restricted to ``values``) and ``string``
(free text, for ids). Every kind takes ``nullable`` (default false: a missing value is an
error) and ``description``. Columns starting with ``truth_`` are ground truth of the synthetic
generator and may never appear in a contract.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from training.contract.problems import did_you_mean

TRUTH_PREFIX = "truth_"

Role = Literal[
    "id",
    "label",
    "premium",
    "proposed_premium",
    "new_business_premium",
    "claims_cost",
    "cost_to_serve",
    "margin",
    "treatment",
    "outcome",
    "segment",
    "tenure",
]
"""Roles held by one column each; ``features`` (a list) is the other role."""

SINGLE_ROLES: tuple[Role, ...] = get_args(Role)
MONEY_ROLES: tuple[Role, ...] = SINGLE_ROLES[2:8]

# Known pairs to derive ``false_values`` from ``true_values`` (and back), by lower-case text.
_BOOLEAN_PAIRS = {"yes": "no", "y": "n", "true": "false", "t": "f", "1": "0", "on": "off"}
_TEXT_LISTS = ("true_values", "false_values")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Column(_Strict):
    description: str = ""
    nullable: bool = False


class _Bounded(_Column):
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is greater than max {self.max:g}")
        if self.min_exclusive and self.min is None:
            raise ValueError("min_exclusive needs a min")
        if self.max_exclusive and self.max is None:
            raise ValueError("max_exclusive needs a max")
        return self


class FloatColumn(_Bounded):
    """Real numbers; loaded as float64."""

    kind: Literal["float"]


class IntegerColumn(_Bounded):
    """Whole numbers (``3.0`` is fine, ``2.5`` is not); int64, or float64 when nullable."""

    kind: Literal["integer"]


class BooleanColumn(_Column):
    """Yes/no; loaded as int8 0/1, or float64 0/1 with NaN when nullable."""

    kind: Literal["boolean"]
    true_values: list[str] | None = Field(default=None, min_length=1)
    false_values: list[str] | None = Field(default=None, min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _pair(cls, data: Any) -> Any:
        """Accept one text for a list, and derive the missing side of a known pair."""
        if not isinstance(data, dict):
            return data
        data = {k: [v] if k in _TEXT_LISTS and isinstance(v, str) else v for k, v in data.items()}
        for known, other in (("true_values", "false_values"), ("false_values", "true_values")):
            given = data.get(known)
            if data.get(other) is None and isinstance(given, list) and _all_text(given):
                data[other] = _derive(given, known)
        return data

    @model_validator(mode="after")
    def _disjoint(self) -> Self:
        both = set(self.true_values or ()) & set(self.false_values or ())
        if both:
            raise ValueError(f"values both true and false: {sorted(both)}")
        return self


class CategoricalColumn(_Column):
    """Text labels; pandas ``category`` with the declared ``values`` (in order) as categories."""

    kind: Literal["categorical"]
    values: list[str] | None = Field(default=None, min_length=1)

    @field_validator("values")
    @classmethod
    def _unique(cls, values: list[str] | None) -> list[str] | None:
        if values is not None and len(set(values)) != len(values):
            raise ValueError("values are listed more than once")
        return values


class StringColumn(_Column):
    """Free text, e.g. an id like ``"C00000001"``; loaded as pandas ``str``."""

    kind: Literal["string"]


ColumnSpec = Annotated[
    FloatColumn | IntegerColumn | BooleanColumn | CategoricalColumn | StringColumn,
    Field(discriminator="kind"),
]
Kind = Literal["float", "integer", "boolean", "categorical", "string"]


class PriceChange(_Strict):
    """What a price action does to the renewal premium: a discount off the offered premium,
    or a freeze at the current premium (never above it)."""

    discount: float | None = Field(None, gt=0, lt=1)
    freeze: bool = False

    @model_validator(mode="after")
    def _one(self) -> PriceChange:
        if (self.discount is None) == (not self.freeze):
            raise ValueError("a price change is either a discount (0-1) or freeze: true")
        return self


class TreatmentRole(_Strict):
    """The campaign arm of each customer; a missing value means "not in the campaign".
    ``prices``: the arms that change the renewal premium, and how; their uplift also
    draws on the churn model's response to that price change (training/models/uplift.py).
    ``modifiers``: per arm, the features it is designed to act through (a payment plan:
    late payments); its uplift model is let vary along them more freely
    (training/models/additive.py). Optional: undeclared arms are learned from the data
    alone."""

    column: str
    control: str = "control"
    prices: dict[str, PriceChange] = Field(default_factory=dict)
    modifiers: dict[str, list[str]] = Field(default_factory=dict)


class Roles(_Strict):
    """What each column means. ``id``, ``label`` and ``features`` are required."""

    id: str
    label: str
    features: list[str] = Field(min_length=1)
    premium: str | None = None
    proposed_premium: str | None = None
    new_business_premium: str | None = None
    claims_cost: str | None = None
    cost_to_serve: str | None = None
    margin: str | None = None
    treatment: TreatmentRole | None = None
    outcome: str | None = None
    segment: str | None = None
    tenure: str | None = None
    """Whole periods (years) the customer has been with us: feeds the cohort value model."""

    @field_validator("treatment", mode="before")
    @classmethod
    def _column_name_alone(cls, value: object) -> object:
        return {"column": value} if isinstance(value, str) else value

    def column_for(self, role: Role) -> str | None:
        if role not in SINGLE_ROLES:
            raise ValueError(f"unknown role {role!r}; roles are {', '.join(SINGLE_ROLES)}")
        if role == "treatment":
            return self.treatment.column if self.treatment is not None else None
        value: str | None = getattr(self, role)
        return value


# Which kinds each role accepts.
_ROLE_KINDS: dict[str, tuple[Kind, ...]] = {
    "id": ("integer", "string"),
    "label": ("boolean",),
    "outcome": ("boolean",),
    "treatment": ("categorical", "string"),
    "segment": ("categorical", "string"),
    "tenure": ("integer",),
    "features": ("float", "integer", "boolean", "categorical"),
    **dict.fromkeys(MONEY_ROLES, ("float", "integer")),
}


class Contract(_Strict):
    """A data contract: column declarations plus roles. See the module docstring."""

    name: str
    description: str = ""
    missing_values: list[str] = Field(default_factory=list)
    """Texts meaning "missing" besides empty and blank cells, e.g. ``["NA"]``."""
    columns: dict[str, ColumnSpec]
    roles: Roles

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = _check(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def feature_columns(self) -> list[str]:
        return list(self.roles.features)

    @property
    def numeric_features(self) -> list[str]:
        """Float, integer and boolean features (booleans load as 0/1), in declared order."""
        return [c for c in self.roles.features if self.columns[c].kind != "categorical"]

    @property
    def categorical_features(self) -> list[str]:
        return [c for c in self.roles.features if self.columns[c].kind == "categorical"]

    def column_for(self, role: Role) -> str | None:
        """The column holding ``role``, or ``None`` when the contract does not map it."""
        return self.roles.column_for(role)

    def used_columns(self) -> list[str]:
        """Every contracted column once: id, label, features, then the other roles."""
        names = [self.roles.id, self.roles.label, *self.roles.features]
        names += [c for r in SINGLE_ROLES if (c := self.column_for(r)) is not None]
        return list(dict.fromkeys(names))

    def allows_missing(self, column: str) -> bool:
        """Declared ``nullable``, or the treatment column (missing = not in the campaign)."""
        treatment = self.column_for("treatment")
        return self.columns[column].nullable or column == treatment


def _role_columns(contract: Contract) -> list[tuple[str, str]]:
    """(where, column) for every column reference under ``roles``."""
    refs = [(f"roles.features[{i}]", c) for i, c in enumerate(contract.roles.features)]
    for role in SINGLE_ROLES:
        column = contract.column_for(role)
        if column is not None:
            refs.append((f"roles.{role}" + (".column" if role == "treatment" else ""), column))
    return refs


def _check(contract: Contract) -> list[str]:
    """Cross-field rules; one message per broken rule, each starting with its key."""
    problems: list[str] = []
    roles, columns = contract.roles, contract.columns
    refs = _role_columns(contract)
    for name in columns:
        if name.startswith(TRUTH_PREFIX):
            problems.append(f"columns.{name}: {_truth(name)}")
    for where, name in refs:
        if name.startswith(TRUTH_PREFIX):
            problems.append(f"{where}: {_truth(name)}")
        elif name not in columns:
            hint = did_you_mean(name, columns)
            problems.append(f"{where}: column {name!r} is not declared under columns{hint}")
        else:
            role = where.split(".")[1].split("[")[0]
            kind = columns[name].kind
            if kind not in _ROLE_KINDS[role]:
                allowed = " or ".join(_ROLE_KINDS[role])
                problems.append(f"{where}: column {name!r} is {kind}; {role} must be {allowed}")
    for role, required in (("id", roles.id), ("label", roles.label)):
        if required in columns and columns[required].nullable:
            problems.append(f"columns.{required}: the {role} column cannot be nullable")
    seen: set[str] = set()
    for i, name in enumerate(roles.features):
        if name in seen:
            problems.append(f"roles.features[{i}]: {name!r} is listed twice")
        seen.add(name)
    treatment = contract.column_for("treatment")
    for role, other in (
        ("id", roles.id),
        ("label", roles.label),
        ("outcome", roles.outcome),
        ("treatment", treatment),
    ):
        if other is not None and other in seen:
            problems.append(f"roles.features: {other!r} is the {role} column, not a feature")
    used = {name for _, name in refs}
    for name in columns:
        if name not in used and not name.startswith(TRUTH_PREFIX):
            problems.append(f"columns.{name}: declared but used by no role")
    if roles.treatment is not None and treatment in columns:
        spec = columns[roles.treatment.column]
        values = spec.values if isinstance(spec, CategoricalColumn) else None
        if values is not None and roles.treatment.control not in values:
            problems.append(
                f"roles.treatment.control: {roles.treatment.control!r} is not one of "
                f"the values of column {treatment!r}"
            )
        for action in roles.treatment.prices:
            if values is not None and action not in values:
                problems.append(
                    f"roles.treatment.prices.{action}: not one of the values of column "
                    f"{treatment!r}"
                )
        if roles.treatment.prices and (roles.premium is None or roles.proposed_premium is None):
            problems.append("roles.treatment.prices: needs the premium and proposed_premium roles")
        for action, names in roles.treatment.modifiers.items():
            where = f"roles.treatment.modifiers.{action}"
            if values is not None and action not in values:
                problems.append(f"{where}: not one of the values of column {treatment!r}")
            elif action == roles.treatment.control:
                problems.append(f"{where}: the control arm has no effect to modify")
            for i, name in enumerate(names):
                if name not in seen:
                    hint = did_you_mean(name, roles.features)
                    problems.append(f"{where}[{i}]: {name!r} is not one of roles.features{hint}")
    return problems


def _truth(name: str) -> str:
    return (
        f"column {name!r} is ground truth of the synthetic generator "
        f"({TRUTH_PREFIX}* columns may not be mapped to any role)"
    )


def _derive(values: list[str], key: str) -> list[str]:
    derived: list[str] = []
    pairs = {**_BOOLEAN_PAIRS, **{v: k for k, v in _BOOLEAN_PAIRS.items()}}
    for value in values:
        partner = pairs.get(value.lower())
        if partner is None:
            other = "false_values" if key == "true_values" else "true_values"
            raise ValueError(f"cannot derive {other} from {key} {values}; declare {other}")
        if value.isupper():
            partner = partner.upper()
        elif value[:1].isupper():
            partner = partner.capitalize()
        derived.append(partner)
    return derived


def _all_text(values: list[Any]) -> bool:
    return all(isinstance(v, str) and v for v in values)
