"""The application factory: ``create_app()``; the lifespan builds the runtime once.

Nothing happens at import. ``create_app(settings)`` returns an app whose lifespan reads
the settings (``get_settings()`` unless given), loads rules and model, builds stores and
keys, starts the reload poller, and closes it all at shutdown. ``uvicorn --factory
engine.api.app:create_app`` serves it; so does ``retention serve``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from engine.api import errors
from engine.api.hot_path import DecisionHotPath
from engine.api.metrics import LatencyMiddleware, Metrics, RuntimeCollector
from engine.api.routes import admin, decisions, health, outcomes, renewals
from engine.core.config import Settings, get_settings
from engine.service.runtime import Runtime

logger = logging.getLogger("engine.api")

DESCRIPTION = """\
Next-best actions for live contacts, renewal price checks, and the outcomes that train the
next model. Authenticate with `Authorization: Bearer <key>` (`retention keys create`);
scopes: `decide`, `pricing`, `outcomes`, `admin`.
"""


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    poll: bool = True,
    hot_path: bool = True,
) -> FastAPI:
    """The service. ``runtime``: use one already built (it is not closed at shutdown).
    ``hot_path=False`` serves every decision through FastAPI's own request handling (the
    tests compare the two)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        live: Runtime = (
            runtime
            if runtime is not None
            else await run_in_threadpool(Runtime.build, settings or get_settings())
        )
        app.state.runtime = live
        if owned and poll:
            live.start_polling()
        try:
            yield
        finally:
            app.state.runtime = None
            if owned:
                live.close()

    from engine import __version__

    app = FastAPI(
        title="Retention decision engine",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.runtime = None
    app.state.metrics = metrics = Metrics()
    metrics.registry.register(RuntimeCollector(app))
    errors.install(app)
    for module in (decisions, outcomes, renewals, admin, health):
        app.include_router(module.router)
    if hot_path:  # inside the latency middleware (added later = outer): its answers are timed
        app.add_middleware(DecisionHotPath)
    app.add_middleware(LatencyMiddleware, metrics=metrics)
    return app
