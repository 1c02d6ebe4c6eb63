"""Validate loaded YAML against a pydantic model and turn its errors into located problems.

Pydantic reports where a value is by its path (``("actions", 3, "cost")``); the ``SourceMap``
knows where that path starts in the file. Unknown keys get a "did you mean" from the keys
the model at that place accepts.
"""

from __future__ import annotations

import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .problems import Problem, RuleSetError
from .yaml_source import Path, SourceMap, did_you_mean

M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: object, source: SourceMap) -> M:
    """``model`` built from ``data``; every problem at once as a ``RuleSetError``."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise RuleSetError(problems(error, model, source)) from None


def problems(error: ValidationError, model: type[BaseModel], source: SourceMap) -> list[Problem]:
    grouped: dict[Path, list[str]] = {}
    extra: set[Path] = set()
    for item in error.errors(include_url=False):
        path = _clean(item["loc"])
        if item["type"] == "extra_forbidden":
            extra.add(path)
            allowed = _allowed_keys(model, path[:-1])
            hint = did_you_mean(str(path[-1]), allowed)
            if not hint and allowed:
                hint = f" (allowed: {', '.join(sorted(allowed))})"
            message = f"unknown key '{path[-1]}'{hint}"
        else:
            message = _message(item["msg"], item.get("input"), item["type"])
        messages = grouped.setdefault(path, [])
        if message not in messages:
            messages.append(message)
    found = []
    for path, messages in grouped.items():
        where = dotted(path[:-1] if path in extra else path)
        text = "; or ".join(messages)
        found.append(
            source.problem(path, f"{where}: {text}" if where else text, at_key=path in extra)
        )
    return sorted(found, key=lambda problem: (problem.line, problem.column))


def dotted(path: Path) -> str:
    """``actions[3].cost`` for ``("actions", 3, "cost")``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _clean(loc: tuple[int | str, ...]) -> Path:
    # Union members and validators appear in the path as "literal[...]", "list[...]",
    # "function-after[...]": they are not keys of the file.
    return tuple(
        part for part in loc if isinstance(part, int) or not any(c in part for c in "[]-(")
    )


def _message(message: str, value: object, kind: str) -> str:
    message = message.removeprefix("Value error, ")
    if kind == "missing":
        return "required key is missing"
    if isinstance(value, bool | int | float | str) and len(repr(value)) <= 60:
        return f"{message} (got {value!r})"
    return message


def _allowed_keys(model: type[BaseModel], path: Path) -> set[str]:
    current: Any = model
    for part in path:
        current = _unwrap(current, part)
        if current is None:
            return set()
    current = _unwrap(current, None)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return set(current.model_fields)
    return set()


def _unwrap(annotation: Any, part: str | int | None) -> Any:
    """The type found one step along ``part`` (None: just strip wrappers) from ``annotation``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            structured = [m for m in members if _is_structured(m)]
            annotation = structured[0] if structured else members[0]
        else:
            break
    if part is None:
        return annotation
    origin = typing.get_origin(annotation)
    if origin is list and isinstance(part, int):
        return typing.get_args(annotation)[0]
    if origin is dict and isinstance(part, str):
        return typing.get_args(annotation)[1]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(part, str):
        field = annotation.model_fields.get(part)
        return None if field is None else field.annotation
    return None


def _is_structured(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (list, dict):
        return True
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
