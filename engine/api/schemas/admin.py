"""Health, readiness and admin answers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    ready: bool
    status: str
    components: dict[str, dict[str, Any]]


class Versions(BaseModel):
    model: str
    model_ref: str
    rule_set: str
    rule_set_name: str
    rules_path: str
    model_error: str | None
    rules_error: str | None
    engine: str


class ReloadResult(BaseModel):
    ok: bool
    changed: bool
    error: str | None
    model: str | None = None
    rule_set: str | None = None
