"""``/v1/admin``: which model and rules are live, and reloading them now."""

from __future__ import annotations

from fastapi import APIRouter

from engine.api.deps import Admin
from engine.api.schemas.admin import ReloadResult, Versions
from engine.api.schemas.common import ERRORS

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=ERRORS)


@router.get("/versions", response_model=Versions, summary="Live model and rule set")
async def versions(caller: Admin) -> Versions:
    from engine import __version__

    runtime = caller.runtime
    rules = runtime.rules.current
    return Versions(
        model=runtime.models.version,
        model_ref=runtime.models.ref,
        rule_set=rules.hash,
        rule_set_name=rules.name,
        rules_path=str(runtime.rules.path),
        model_error=runtime.models.last_error,
        rules_error=runtime.rules.last_error,
        engine=__version__,
    )


@router.post("/rules/reload", response_model=ReloadResult, summary="Reload the rule file")
async def reload_rules(caller: Admin) -> ReloadResult:
    """An invalid file is reported (ok false, the error) and never replaces the live set."""
    return ReloadResult(**caller.runtime.reload_rules())


@router.post("/model/reload", response_model=ReloadResult, summary="Reload the model bundle")
async def reload_model(caller: Admin) -> ReloadResult:
    """Loads the bundle the reference points at now (e.g. after a promotion); an
    unloadable one is reported and never replaces the live model."""
    from starlette.concurrency import run_in_threadpool

    return ReloadResult(**(await run_in_threadpool(caller.runtime.reload_model, force=False)))
