"""What routes receive: the runtime built at startup, the service, and the caller's key.

Every dependency is ``Annotated`` so a route states what it needs in its signature:
``caller: Decide`` (the runtime and the caller's key, for the ``decide`` scope). Keys are
checked against the key store (re-read when the file changes); a missing or unknown key is
401, a key without the scope 403.
The key itself is never logged; only the key's name may be.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from engine.api.problems import Forbidden, Unauthorized
from engine.auth.keys import KeyRecord
from engine.service.errors import ServiceNotReady
from engine.service.pipeline import DecisionService
from engine.service.runtime import Runtime

bearer = HTTPBearer(auto_error=False, description="An API key: `retention keys create`.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime | None = getattr(request.app.state, "runtime", None)
    if runtime is None:
        raise ServiceNotReady("the service is starting or stopping")
    return runtime


# A coroutine although it does no awaiting: FastAPI runs plain functions on a worker
# thread, a hop that cost ~0.5 ms per request under load. No blocking I/O either, except
# the key store's stat of its file, at most once per poll interval.
async def get_runtime(request: Request) -> Runtime:
    return runtime_of(request)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated request: the live runtime and the caller's key."""

    runtime: Runtime
    key: KeyRecord

    @property
    def service(self) -> DecisionService:
        return self.runtime.service


def require(scope: str) -> Callable[[Request, Credentials], Coroutine[Any, Any, Caller]]:
    """The one dependency of a route: admits keys holding ``scope``. One call rather than a
    tree of small ones: each dependency FastAPI solves costs the request ~10 µs."""

    async def check(request: Request, credentials: Credentials) -> Caller:
        runtime = runtime_of(request)
        if credentials is None or not credentials.credentials:
            raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
        record = runtime.keys.authenticate(credentials.credentials)
        if record is None:
            raise Unauthorized("unknown API key")
        if not record.allows(scope):
            raise Forbidden(f"key {record.name!r} lacks the {scope!r} scope")
        return Caller(runtime, record)

    check.__name__ = f"require_{scope}"
    return check


DECIDE_SCOPE = "decide"
Decide = Annotated[Caller, Depends(require(DECIDE_SCOPE))]  # engine.api.hot_path checks the same
Pricing = Annotated[Caller, Depends(require("pricing"))]
Outcomes = Annotated[Caller, Depends(require("outcomes"))]
Admin = Annotated[Caller, Depends(require("admin"))]
