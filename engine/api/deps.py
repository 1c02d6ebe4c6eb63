"""What routes receive: the runtime built at startup, the service, and the caller's key.

Every dependency is ``Annotated`` so a route states what it needs in its signature:
``service: ServiceDep, key: DecideKey``. Keys are checked against the key store (re-read
when the file changes); a missing or unknown key is 401, a key without the scope 403.
The key itself is never logged; only the key's name may be.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from engine.api.problems import Forbidden, Unauthorized
from engine.auth.keys import KeyRecord
from engine.service.errors import ServiceNotReady
from engine.service.pipeline import DecisionService
from engine.service.runtime import Runtime

bearer = HTTPBearer(auto_error=False, description="An API key: `retention keys create`.")


# Dependencies are coroutines although they do no awaiting: FastAPI runs plain functions on
# a worker thread, a hop that cost ~0.5 ms per request under load. They do no blocking I/O,
# except the key store's stat of its file, at most once per poll interval.
async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime | None = getattr(request.app.state, "runtime", None)
    if runtime is None:
        raise ServiceNotReady("the service is starting or stopping")
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_service(runtime: RuntimeDep) -> DecisionService:
    return runtime.service


ServiceDep = Annotated[DecisionService, Depends(get_service)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def require(scope: str) -> Callable[[RuntimeDep, Credentials], Coroutine[Any, Any, KeyRecord]]:
    """A dependency that admits keys holding ``scope``."""

    async def check(runtime: RuntimeDep, credentials: Credentials) -> KeyRecord:
        if credentials is None or not credentials.credentials:
            raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
        record = runtime.keys.authenticate(credentials.credentials)
        if record is None:
            raise Unauthorized("unknown API key")
        if not record.allows(scope):
            raise Forbidden(f"key {record.name!r} lacks the {scope!r} scope")
        return record

    check.__name__ = f"require_{scope}"
    return check


DecideKey = Annotated[KeyRecord, Depends(require("decide"))]
PricingKey = Annotated[KeyRecord, Depends(require("pricing"))]
OutcomesKey = Annotated[KeyRecord, Depends(require("outcomes"))]
AdminKey = Annotated[KeyRecord, Depends(require("admin"))]
