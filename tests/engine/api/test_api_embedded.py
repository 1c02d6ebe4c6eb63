"""The real app on loopback with the embedded stores: every endpoint, auth, errors, log."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from engine.auth.keys import KeyFile
from retention.commands.quickstart import Prepared

from .conftest import Service

CANCEL = {"intent": "cancel_request", "event": "renewal_due"}


def decide(service: Service, customer: str, channel: str = "call_center", **extra: Any) -> Any:
    body = {"customer_id": customer, "channel": channel, "context": CANCEL, **extra}
    response = service.post("/v1/decisions", body)
    assert response.status_code == 200, response.text
    return response.json()


def book(trained: Prepared) -> pd.DataFrame:
    return pd.read_parquet(trained.book)


def test_a_decision_has_ranked_actions_scores_reasons_and_versions(
    embedded: Service, trained: Prepared
) -> None:
    answer = decide(embedded, trained.example_customer)
    assert answer["customer_id"] == trained.example_customer
    assert len(answer["decision_id"]) == 32
    assert answer["degraded"] is False
    assert answer["versions"]["model"] == "retention-bundle/1"
    assert len(answer["versions"]["rule_set"]) == 64
    scores = answer["scores"]
    assert 0.0 <= scores["churn_probability"] <= 1.0
    assert scores["lifetime_value"] is not None
    assert 1 <= len(scores["reasons"]) <= 3
    assert all(r["text"].endswith("the churn risk") for r in scores["reasons"])
    for action in answer["actions"]:
        assert {"id", "kind", "parameters", "script", "expected_value", "uplift", "cost"} <= set(
            action
        )
        assert action["reasons"]
    assert answer["actions"] or answer["reasons"]  # empty is an answer, with a reason
    # Written before it was returned.
    logged = embedded.runtime.stores.decisions.get(answer["decision_id"])
    assert logged is not None
    assert logged.response["actions"] == answer["actions"]
    assert logged.model_version == "retention-bundle/1"


def test_channels_of_one_group_get_the_same_answer_within_the_window(
    embedded: Service, trained: Prepared
) -> None:
    customer = str(book(trained)["customer_id"].iloc[7])
    first = decide(embedded, customer, "call_center")
    again = decide(embedded, customer, "branch")
    assert again["decision_id"] == first["decision_id"]
    assert again["actions"] == first["actions"]
    assert again["reused"] is True
    other_context = decide(embedded, customer, "call_center", context={"intent": "general"})
    assert other_context["decision_id"] != first["decision_id"]


def test_no_consistency_window_decides_afresh(serve: Any, trained: Prepared) -> None:
    with serve(consistency_window_seconds=0) as service:
        customer = str(book(trained)["customer_id"].iloc[8])
        assert decide(service, customer)["decision_id"] != decide(service, customer)["decision_id"]


def test_unknown_customer_is_404_unless_features_come_inline(embedded: Service) -> None:
    response = embedded.post("/v1/decisions", {"customer_id": "NOBODY", "channel": "web"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "UnknownCustomer"
    assert "NOBODY" in response.json()["error"]["message"]
    features = {"tenure_years": 6, "complaints_12m": 2, "satisfaction": 3, "margin": 400.0,
                "annual_premium": 900.0, "proposed_premium": 990.0, "segment": "mass"}  # fmt: skip
    answer = decide(embedded, "NOBODY", "web", features=features)
    assert answer["scores"]["churn_probability"] is not None


def test_inline_features_override_stored_ones(embedded: Service, trained: Prepared) -> None:
    customer = str(book(trained)["customer_id"].iloc[9])
    plain = decide(embedded, customer, "web", context={"intent": "complaint"})
    unhappy = decide(
        embedded, customer, "web", context={"intent": "complaint"},
        features={"complaints_12m": 4, "satisfaction": 1},
    )  # fmt: skip
    assert unhappy["decision_id"] != plain["decision_id"]
    assert unhappy["scores"]["churn_probability"] != plain["scores"]["churn_probability"]
    logged = embedded.runtime.stores.decisions.get(unhappy["decision_id"])
    assert logged.request["features"] == {"complaints_12m": 4, "satisfaction": 1}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"customer_id": "C1"}, "channel"),
        ({"customer_id": "C1", "channel": "fax"}, "channel"),
        ({"customer_id": "C1", "channel": "web", "limit": 0}, "limit"),
        ({"customer_id": "C1", "channel": "web", "context": {"intent": "x"}}, "context.intent"),
        ({"customer_id": "C1", "channel": "web", "colour": "red"}, "colour"),
        ({"customer_id": "C1", "channel": "web", "features": {"age": "old"}}, "features.age"),
        ({"customer_id": "", "channel": "web"}, "customer_id"),
    ],
)
def test_a_client_mistake_is_422_naming_the_field(
    embedded: Service, body: dict[str, Any], field: str
) -> None:
    response = embedded.post("/v1/decisions", body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


def test_a_body_that_is_not_json_is_400(embedded: Service) -> None:
    response = embedded.http.post(
        "/v1/decisions",
        content=b"{not json",
        headers={"Authorization": f"Bearer {embedded.token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidJSON"


def test_auth_missing_unknown_and_wrong_scope(embedded: Service, trained: Prepared) -> None:
    body = {"customer_id": trained.example_customer, "channel": "web"}
    missing = embedded.post("/v1/decisions", body, token=None)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert embedded.post("/v1/decisions", body, token="rk_not-a-key").status_code == 401
    pricing_only = KeyFile(trained.keys_file).create(f"pricing-{id(body)}", ["pricing"])
    embedded.runtime.keys.refresh()  # the service also re-reads it every poll
    assert embedded.post("/v1/decisions", body, token=pricing_only).status_code == 403
    renewal = {"customer_id": trained.example_customer, "current_premium": 900.0,
               "proposed_premium": 950.0}  # fmt: skip
    assert embedded.post("/v1/renewals/check", renewal, token=pricing_only).status_code == 200
    assert embedded.get("/v1/admin/versions", token=pricing_only).status_code == 403
    assert embedded.post("/v1/decisions/x/outcome", {"action_id": "a", "outcome": "accepted"},
                         token=pricing_only).status_code == 403  # fmt: skip


def test_keys_and_customer_ids_never_reach_the_logs(
    embedded: Service, trained: Prepared, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    decide(embedded, trained.example_customer)
    embedded.post("/v1/decisions", {"customer_id": "SECRET-ID-1", "channel": "web"})
    text = caplog.text
    assert trained.token not in text
    assert "SECRET-ID-1" not in text


def test_outcomes_are_idempotent_conflicts_409_and_unknowns_404(
    embedded: Service, trained: Prepared
) -> None:
    customers = book(trained)["customer_id"].astype(str).tolist()
    answer = next(a for a in (decide(embedded, c) for c in customers[20:80]) if a["actions"])
    action = answer["actions"][0]["id"]
    path = f"/v1/decisions/{answer['decision_id']}/outcome"
    at = "2026-01-05T10:00:00Z"
    first = embedded.post(path, {"action_id": action, "outcome": "declined", "at": at})
    again = embedded.post(path, {"action_id": action, "outcome": "declined", "at": at})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    conflict = embedded.post(path, {"action_id": action, "outcome": "accepted"})
    assert conflict.status_code == 409
    assert (
        embedded.post(path, {"action_id": "not_offered", "outcome": "accepted"}).json()["error"][
            "field"
        ]
        == "action_id"
    )
    unknown = embedded.post(
        "/v1/decisions/0000/outcome", {"action_id": action, "outcome": "declined"}
    )
    assert unknown.status_code == 404
    assert len(embedded.runtime.stores.decisions.outcomes(answer["decision_id"])) == 1


def test_a_decline_starts_the_cool_down_and_forgets_the_consistent_answer(
    embedded: Service, trained: Prepared
) -> None:
    customers = book(trained)["customer_id"].astype(str).tolist()
    answer = next(a for a in (decide(embedded, c) for c in customers[100:200]) if a["actions"])
    action = answer["actions"][0]["id"]
    path = f"/v1/decisions/{answer['decision_id']}/outcome"
    assert embedded.post(path, {"action_id": action, "outcome": "declined"}).status_code == 200
    after = decide(embedded, answer["customer_id"])
    assert after["decision_id"] != answer["decision_id"]
    assert after["actions"] == []
    assert [r["code"] for r in after["reasons"]] == ["contact_policy"]


def test_outcomes_export_joins_decisions_and_outcomes(
    embedded: Service, trained: Prepared, tmp_path: Path
) -> None:
    customers = book(trained)["customer_id"].astype(str).tolist()
    answer = next(a for a in (decide(embedded, c) for c in customers[300:400]) if a["actions"])
    path = f"/v1/decisions/{answer['decision_id']}/outcome"
    embedded.post(path, {"action_id": answer["actions"][0]["id"], "outcome": "accepted"})
    out = tmp_path / "joined.parquet"
    rows = embedded.runtime.stores.decisions.export_joined(out)
    frame = pd.read_parquet(out)
    assert rows == len(frame) >= 1
    joined = frame[frame["decision_id"] == answer["decision_id"]]
    assert joined["outcome"].tolist() == ["accepted"]


def test_renewal_showcase_loss_free_valuable_price_sensitive_gets_no_increase(
    embedded: Service, trained: Prepared
) -> None:
    frame = book(trained)
    loyal = frame[
        (frame["years_loss_free"] >= 5) & (frame["claims_count_3y"] == 0)
        & (frame["segment"] != "vip") & (frame["margin"] > 300)
    ]  # fmt: skip
    # Ask the service about the customers the live model finds most price-sensitive, so the
    # test does not depend on one of them happening to be among the first few by margin.
    bundle = embedded.runtime.models.current.bundle
    premium = loyal["annual_premium"].to_numpy(dtype=float)
    at = {k: bundle.p_churn(bundle.matrix(loyal, premium * k), threads=1) for k in (1.0, 1.15)}
    loyal = loyal.assign(rise=at[1.15] - at[1.0]).sort_values("rise", ascending=False)
    verdicts = []
    for row in loyal.head(30).itertuples():
        current = float(row.annual_premium)
        body = {"customer_id": row.customer_id, "current_premium": current,
                "proposed_premium": round(current * 1.15, 2),
                "new_business_premium": round(current * 1.5, 2)}  # fmt: skip
        response = embedded.post("/v1/renewals/check", body)
        assert response.status_code == 200, response.text
        verdicts.append(response.json())
    showcase = [v for v in verdicts if "loyal_no_increase" in v["policies"]]
    assert showcase, "no loss-free, valuable, price-sensitive customer in the book"
    answer = showcase[0]
    assert answer["verdict"] == "adjust"
    assert answer["recommended_premium"] == answer["current_premium"]  # no increase
    assert (
        answer["at_recommended"]["churn_probability"] <= answer["at_proposed"]["churn_probability"]
    )
    assert answer["action"] is not None
    assert answer["action"]["id"] == "loyalty_reward"
    assert any(r["code"] == "price_cap" for r in answer["reasons"])


def test_renewal_recent_large_claimant_with_low_margin_is_approved(
    embedded: Service, trained: Prepared
) -> None:
    frame = book(trained)
    claimants = frame[
        (frame["claims_amount_3y"] >= 15_000) & (frame["years_loss_free"] == 0)
        & (frame["segment"] != "vip")
    ].sort_values("margin")  # fmt: skip
    assert len(claimants) > 0
    row = claimants.iloc[0]
    current = float(row["annual_premium"])
    body = {"customer_id": row["customer_id"], "current_premium": current,
            "proposed_premium": round(current * 1.15, 2),
            "new_business_premium": round(current * 1.5, 2)}  # fmt: skip
    answer = embedded.post("/v1/renewals/check", body).json()
    assert answer["verdict"] == "approve", answer["reasons"]
    assert answer["recommended_premium"] == body["proposed_premium"]
    assert "loyal_no_increase" not in answer["policies"]


def test_renewal_batch_answers_each_item_with_its_own_errors(
    embedded: Service, trained: Prepared
) -> None:
    ids = book(trained)["customer_id"].astype(str).tolist()[:5]
    items = [{"customer_id": c, "current_premium": 800.0, "proposed_premium": 840.0} for c in ids]
    items.insert(2, {"customer_id": "NOBODY", "current_premium": 800.0, "proposed_premium": 840.0})
    response = embedded.post("/v1/renewals/check:batch", {"items": items})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(6))
    assert [r["status"] for r in results] == [200, 200, 404, 200, 200, 200]
    assert results[2]["error"]["code"] == "UnknownCustomer"
    assert response.json()["errors"] == 1
    too_many = {"items": [items[0]] * 1001}
    assert embedded.post("/v1/renewals/check:batch", too_many).status_code == 422


def test_health_readiness_versions_metrics_and_openapi(
    embedded: Service, trained: Prepared
) -> None:
    assert embedded.get("/healthz").json() == {"status": "ok"}
    ready = embedded.get("/readyz").json()
    assert ready["ready"] is True
    assert set(ready["components"]) == {"model", "rules", "features", "counters", "decision_log"}
    assert ready["components"]["decision_log"]["durability"] == "flush"  # on disk by default
    assert ready["components"]["decision_log"]["writer"] == "process"  # off the GIL
    versions = embedded.get("/v1/admin/versions", token="dev").json()
    assert versions["model"] == "retention-bundle/1"
    embedded.post("/v1/decisions", {"customer_id": "NOBODY", "channel": "web"})
    decide(embedded, str(book(trained)["customer_id"].iloc[11]), "web")  # logged
    metrics = embedded.get("/metrics").text
    assert (
        'retention_request_seconds_bucket{le="0.005",method="POST",route="/v1/decisions"' in metrics
    )
    assert "retention_live_info" in metrics
    assert "retention_reason_cache_total" in metrics
    commits = [
        line
        for line in metrics.splitlines()
        if line.startswith("retention_decision_log_commits_total ")
    ]
    assert commits, "decision log commits missing from /metrics"
    assert float(commits[0].split()[1]) >= 1  # the decisions made above were committed
    schema = embedded.get("/openapi.json").json()
    for path in ("/v1/decisions", "/v1/decisions/{decision_id}/outcome", "/v1/renewals/check",
                 "/v1/renewals/check:batch", "/v1/admin/versions", "/v1/admin/rules/reload",
                 "/v1/admin/model/reload", "/healthz", "/readyz", "/metrics"):  # fmt: skip
        assert path in schema["paths"], path
    request = schema["components"]["schemas"]["DecisionRequest"]
    assert request["examples"][0]["channel"] == "call_center"


def test_an_unexpected_error_is_500_with_an_error_id_in_the_log(
    embedded: Service,
    trained: Prepared,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise ZeroDivisionError("internal detail")

    monkeypatch.setattr(embedded.runtime.service.scorer, "score", broken)
    caplog.set_level(logging.ERROR, logger="engine.api")
    response = embedded.post(
        "/v1/decisions", {"customer_id": trained.example_customer, "channel": "sms"}
    )
    assert response.status_code == 500
    error = response.json()["error"]
    assert "internal detail" not in response.text
    assert error["error_id"] in caplog.text
