"""The service layer's small parts: channel groups, periods, answers cache, wording."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from engine.service.channels import channel_group
from engine.service.consistency import Answer, AnswerCache, LocalAnswers, RedisAnswers
from engine.service.contacts import period_key
from engine.service.wording import reason_sentence
from engine.stores.errors import CounterStoreUnavailable

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
    asyncio.run(keeps_the_first_until_forgotten_or_expired(LocalAnswers(max_customers=2)))
    cache = LocalAnswers(max_customers=2)

    async def fill() -> Answer | None:
        for customer in ("c3", "c4", "c5"):
            await cache.put(customer, "k", {}, 60)
        return await cache.get("c3", "k")

    assert asyncio.run(fill()) is None  # least recently used went first


@pytest.mark.integration
def test_redis_answers_keep_the_first_until_forgotten_or_expired(
    redis_url: str, redis_prefix: str
) -> None:
    cache = RedisAnswers(redis_url, prefix=redis_prefix, timeout=1.0)

    async def run() -> None:
        try:
            await keeps_the_first_until_forgotten_or_expired(cache)
            # Two replicas racing on one customer: the first answer stored is everyone's.
            racing = [cache.put("c9", "k", {"decision_id": str(i)}, 60) for i in range(20)]
            kept = await asyncio.gather(*racing)
            assert {a["decision_id"] for a in kept} == {"0"}
        finally:
            cache.close()

    asyncio.run(run())


def test_redis_answers_down_is_our_error() -> None:
    cache = RedisAnswers("redis://127.0.0.1:1/0", prefix="p", timeout=0.2)
    with pytest.raises(CounterStoreUnavailable, match="answer cache"):
        asyncio.run(cache.get("c1", "k"))
    cache.close()


async def keeps_the_first_until_forgotten_or_expired(cache: AnswerCache) -> None:
    first = await cache.put("c1", "k", {"decision_id": "a"}, ttl_s=60)
    assert await cache.put("c1", "k", {"decision_id": "b"}, ttl_s=60) == first
    assert await cache.get("c1", "k") == first
    cache.forget("c1")
    assert await cache.get("c1", "k") is None
    await cache.put("c2", "k", {"decision_id": "x"}, ttl_s=-1)
    assert await cache.get("c2", "k") is None
    replaced = await cache.put("c2", "k", {"decision_id": "y"}, ttl_s=60)  # the old expired
    assert await cache.get("c2", "k") == replaced == {"decision_id": "y"}


def test_reason_sentences_read_well() -> None:
    assert reason_sentence("price_change", 0.15, 0.3) == (
        "The renewal premium changes by +15.0 %: raises the churn risk"
    )
    assert reason_sentence("segment", 1.0, -0.1, "vip") == "Segment vip: lowers the churn risk"
    assert "unknown" in reason_sentence("age", float("nan"), 0.1)
