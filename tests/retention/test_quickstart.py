"""`retention quickstart --no-serve` prepares everything; the printed setup then serves."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from retention.commands.quickstart import quickstart

pytestmark = pytest.mark.slow

SERVE = (
    "import typer; from retention.commands.serve import serve; "
    "app = typer.Typer(); app.command()(serve); app()"
)


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(quickstart)
    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_quickstart_prepares_then_the_service_answers_the_printed_curl(tmp_path: Path) -> None:
    port = free_port()
    directory = tmp_path / "qs"
    result = CliRunner().invoke(
        cli(), ["--dir", str(directory), "-n", "8000", "--port", str(port), "--no-serve"]
    )
    assert result.exit_code == 0, result.output
    assert f"curl -s -X POST http://127.0.0.1:{port}/v1/decisions" in result.output
    token = (directory / "dev-key.txt").read_text().strip()
    assert token in result.output
    exports = next(line for line in result.output.splitlines() if "retention serve" in line)
    environment = dict(
        item.split("=", 1) for item in exports.split(" retention serve")[0].split(" ")
    )
    assert environment["RETENTION_MODEL_URI"] == "models:/retention-bundle@champion"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETENTION_")}
    env.update({k: v.strip("'") for k, v in environment.items()})
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, "--port", str(port)], env=env, cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
            assert time.monotonic() < deadline, "the service did not come up"
            time.sleep(0.2)
        body = {"customer_id": "C00000001", "channel": "call_center",
                "context": {"intent": "cancel_request", "event": "renewal_due"}}  # fmt: skip
        answer = httpx.post(
            f"{url}/v1/decisions", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["versions"]["model"] == "retention-bundle/1"
        assert httpx.get(f"{url}/readyz").json()["ready"] is True
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0].decode()
    # uvicorn shuts down cleanly, then re-raises the signal it caught.
    assert server.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert token not in output
    assert json.dumps(body["customer_id"]) not in output
    # Idempotent: a second run reuses book, model and key.
    again = CliRunner().invoke(cli(), ["--dir", str(directory), "--no-serve"])
    assert again.exit_code == 0, again.output
    assert "training" not in again.output
    assert (directory / "dev-key.txt").read_text().strip() == token
