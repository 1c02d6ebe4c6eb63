"""The service layer's small parts: channel groups, periods, answers cache, wording."""

from __future__ import annotations

from datetime import datetime

import pytest

from engine.service.channels import channel_group
from engine.service.consistency import LocalAnswers
from engine.service.contacts import period_key
from engine.service.wording import reason_sentence

RULE_CHANNELS = ("agent", "web", "app", "email", "sms")


@pytest.mark.parametrize(
    ("channel", "group"),
    [("call_center", "agent"), ("branch", "agent"), ("agent", "agent"), ("web", "web"),
     ("fax", None)],
)  # fmt: skip
def test_channels_map_to_rule_set_channels(channel: str, group: str | None) -> None:
    assert channel_group(channel, RULE_CHANNELS) == group


def test_period_keys() -> None:
    moment = datetime(2026, 11, 5)
    assert period_key("month", moment) == "2026-11"
    assert period_key("quarter", moment) == "2026-Q4"
    assert period_key("year", moment) == "2026"
    assert period_key("day", moment) == "2026-11-05"


def test_local_answers_keep_the_first_until_forgotten_or_expired() -> None:
    cache = LocalAnswers(max_customers=2)
    first = cache.put("c1", "k", {"decision_id": "a"}, ttl_s=60)
    assert cache.put("c1", "k", {"decision_id": "b"}, ttl_s=60) == first
    assert cache.get("c1", "k") == first
    cache.forget("c1")
    assert cache.get("c1", "k") is None
    cache.put("c2", "k", {"decision_id": "x"}, ttl_s=-1)
    assert cache.get("c2", "k") is None
    cache.put("c3", "k", {}, 60)
    cache.put("c4", "k", {}, 60)
    cache.put("c5", "k", {}, 60)
    assert cache.get("c3", "k") is None  # least recently used went first


def test_reason_sentences_read_well() -> None:
    assert reason_sentence("price_change", 0.15, 0.3) == (
        "The renewal premium changes by +15.0 %: raises the churn risk"
    )
    assert reason_sentence("segment", 1.0, -0.1, "vip") == "Segment vip: lowers the churn risk"
    assert "unknown" in reason_sentence("age", float("nan"), 0.1)
