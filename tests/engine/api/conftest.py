"""Fixtures of the API tests: one small trained bundle per session, a real server per test.

``trained`` runs the quickstart preparation once (an 8,000-customer book, a bundle trained,
registered in a session-local MLflow store and promoted to champion, a dev key).
``serve`` starts the real app under uvicorn on a free loopback port in a thread and stops
it afterwards; ``MLFLOW_TRACKING_URI`` points at the session store only while it runs.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.core.config import Settings
from engine.scoring.registry import tracking_env
from retention.commands.quickstart import Prepared, prepare

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "rules" / "retention.yaml"
CUSTOMERS = 8_000


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    return prepare(tmp_path_factory.mktemp("quickstart"), CUSTOMERS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Service:
    """A running server and a client holding the dev key."""

    def __init__(self, url: str, token: str, app: Any) -> None:
        self.url = url
        self.token = token
        self.app = app
        self.http = httpx.Client(base_url=url, timeout=30)

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    def post(self, path: str, body: Any = None, token: str | None = "dev") -> httpx.Response:
        headers = {} if token is None else {"Authorization": f"Bearer {self._key(token)}"}
        return self.http.post(path, json=body, headers=headers)

    def get(self, path: str, token: str | None = None) -> httpx.Response:
        headers = {} if token is None else {"Authorization": f"Bearer {self._key(token)}"}
        return self.http.get(path, headers=headers)

    def _key(self, token: str) -> str:
        return self.token if token == "dev" else token


@contextmanager
def running(
    settings: Settings, token: str, tracking_uri: str, **app_options: Any
) -> Iterator[Service]:
    import uvicorn

    from engine.api.app import create_app

    with tracking_env(tracking_uri):
        app = create_app(settings, **app_options)
        port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", ws="none",
            lifespan="on", access_log=False,
        )  # fmt: skip
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        service = Service(f"http://127.0.0.1:{port}", token, app)
        try:
            yield service
        finally:
            service.http.close()
            server.should_exit = True
            thread.join(timeout=30)


ServeFactory = Callable[..., Any]


@pytest.fixture
def settings_for(trained: Prepared, tmp_path: Path) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "features_file": trained.book,
            "keys_file": trained.keys_file,
            "rules_path": RULES,
            "model_uri": "champion",
            "database_url": f"sqlite:///{tmp_path / 'decisions.db'}",
            "reload_poll_seconds": 3600,
        }
        values.update(overrides)
        return Settings(**values)

    return build


@pytest.fixture
def serve(trained: Prepared, settings_for: Callable[..., Settings]) -> ServeFactory:
    def start(**overrides: Any) -> Any:
        return running(settings_for(**overrides), trained.token, trained.tracking_uri)

    return start


@pytest.fixture
def embedded(serve: ServeFactory) -> Iterator[Service]:
    with serve() as service:
        yield service
