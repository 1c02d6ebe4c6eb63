"""Hot reload of rules and model: picked up without restart; a bad one never goes live."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from engine.scoring.registry import tracking_env
from retention.commands.quickstart import Prepared

from .conftest import RULES, Service

BODY = {"customer_id": "C00000003", "channel": "call_center",
        "context": {"intent": "cancel_request", "event": "renewal_due"}}  # fmt: skip


def decide(service: Service) -> Any:
    response = service.post("/v1/decisions", BODY)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_rule_change_goes_live_and_an_invalid_file_never_does(serve: Any, tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.read_text())
    with serve(rules_path=path) as service:
        before = decide(service)
        path.write_text(RULES.read_text().replace("top_k: 3", "top_k: 2"))
        reloaded = service.post("/v1/admin/rules/reload").json()
        assert reloaded["ok"] is True
        assert reloaded["changed"] is True
        after = decide(service)
        assert (
            after["versions"]["rule_set"] == reloaded["rule_set"] != before["versions"]["rule_set"]
        )
        assert after["decision_id"] != before["decision_id"]  # a new rule set intervenes
        path.write_text("version: 1\nname: [broken\n")
        rejected = service.post("/v1/admin/rules/reload").json()
        assert rejected["ok"] is False
        assert rejected["error"]
        ready = service.get("/readyz").json()
        assert ready["components"]["rules"]["status"] == "stale"
        assert ready["components"]["rules"]["error"]
        still = decide(service)
        assert still["versions"]["rule_set"] == reloaded["rule_set"]


def test_the_poller_picks_up_a_rule_change_by_itself(serve: Any, tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.read_text())
    with serve(rules_path=path, reload_poll_seconds=0.1) as service:
        first = decide(service)["versions"]["rule_set"]
        path.write_text(RULES.read_text().replace("min_score: 0", "min_score: 0.0"))
        deadline = time.monotonic() + 10
        while decide(service)["versions"]["rule_set"] == first:
            assert time.monotonic() < deadline, "the rule change was not picked up"
            time.sleep(0.1)


def test_a_promotion_goes_live_on_reload(serve: Any, trained: Prepared) -> None:
    import mlflow
    from mlflow.tracking import MlflowClient

    from engine.scoring.registry import REGISTERED_MODEL

    with serve() as service, tracking_env(trained.tracking_uri):
        assert decide(service)["versions"]["model"] == f"{REGISTERED_MODEL}/1"
        first = service.runtime.models.current.download
        assert first is not None
        assert first.is_dir()
        mlflow.set_tracking_uri(trained.tracking_uri)
        mlflow.set_registry_uri(trained.tracking_uri)
        source = MlflowClient().get_model_version(REGISTERED_MODEL, "1").source
        version = mlflow.register_model(source, REGISTERED_MODEL).version
        client = MlflowClient()
        client.set_registered_model_alias(REGISTERED_MODEL, "champion", str(version))
        try:
            reloaded = service.post("/v1/admin/model/reload").json()
            assert reloaded["ok"] is True
            assert reloaded["changed"] is True
            assert decide(service)["versions"]["model"] == f"{REGISTERED_MODEL}/{version}"
            assert not first.exists()  # the replaced bundle's download is gone
            assert service.runtime.models.current.download.is_dir()
        finally:
            client.set_registered_model_alias(REGISTERED_MODEL, "champion", "1")
            client.delete_model_version(REGISTERED_MODEL, str(version))


def test_an_unloadable_model_never_replaces_the_live_one(
    serve: Any, trained: Prepared, tmp_path: Path
) -> None:
    from engine.scoring.registry import resolve_bundle

    with tracking_env(trained.tracking_uri):
        source = resolve_bundle("champion", cache_dir=tmp_path)
    bundle = tmp_path / "bundle"
    shutil.copytree(source, bundle)
    with serve(model_uri=str(bundle)) as service:
        live = decide(service)["versions"]["model"]
        assert live.startswith("path:")
        (bundle / "churn.txt").write_text("not a model")
        (bundle / "manifest.json").write_text((bundle / "manifest.json").read_text() + "\n")
        rejected = service.post("/v1/admin/model/reload").json()
        assert rejected["ok"] is False
        assert rejected["error"]
        assert service.get("/readyz").json()["components"]["model"]["status"] == "stale"
        assert decide(service)["versions"]["model"] == live


def test_without_a_model_the_service_answers_the_fallback_and_recovers_by_itself(
    serve: Any, trained: Prepared, tmp_path: Path
) -> None:
    """The model is not there at startup (a registry still starting, a bundle not yet
    copied): the service starts anyway, says so in /readyz and in every answer, answers
    with the rule set's fallback, and takes the model as soon as a reload finds it."""
    from engine.scoring.registry import resolve_bundle

    bundle = tmp_path / "bundle"
    with serve(model_uri=str(bundle)) as service:
        ready = service.get("/readyz").json()
        assert ready["status"] == "degraded"
        assert ready["components"]["model"]["status"] == "unavailable"
        assert ready["components"]["model"]["error"]
        answer = decide(service)
        assert answer["degraded"] is True
        assert answer["versions"]["model"] == "none"
        assert any("no model loaded" in why for why in answer["degraded_reasons"])
        assert answer["scores"] is None
        assert answer["reasons"][0]["text"].startswith("no model loaded")
        renewal = service.post("/v1/renewals/check", {
            "customer_id": trained.example_customer, "current_premium": 900.0,
            "proposed_premium": 990.0}).json()  # fmt: skip
        assert renewal["verdict"] == "review"
        assert renewal["degraded"] is True
        assert service.get("/v1/admin/versions", token="dev").json()["model"] == "none"

        (tmp_path / "dl").mkdir()
        with tracking_env(trained.tracking_uri):
            shutil.copytree(resolve_bundle("champion", cache_dir=tmp_path / "dl"), bundle)
        service.runtime.poll_once()  # what the poller does every interval
        recovered = decide(service)
        assert recovered["degraded"] is False
        assert recovered["versions"]["model"].startswith("path:")
        assert recovered["scores"] is not None
        assert service.get("/readyz").json()["components"]["model"]["status"] == "ok"
