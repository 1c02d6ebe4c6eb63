"""Counter stores: contact policy, caps and budgets, and no overspending under races."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest

from engine.stores.counters import (
    CounterStore,
    InMemoryCounterStore,
    ReservationRequest,
    ReservationResult,
    to_cents,
)
from engine.stores.counters_redis import RedisCounterStore
from engine.stores.errors import CounterStoreUnavailable

NOW = 1_800_000_000.0
DAY = 86_400.0


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest) -> Iterator[CounterStore]:
    if request.param == "memory":
        yield InMemoryCounterStore()
        return
    redis_store = RedisCounterStore(
        request.getfixturevalue("redis_url"), prefix=request.getfixturevalue("redis_prefix")
    )
    yield redis_store
    redis_store.close()


def reserve(
    store: CounterStore, customer: str = "c1", action: str = "a1", **kw: object
) -> ReservationResult:
    args: dict[str, object] = {
        "cost": 0,
        "budget_name": None,
        "budget_limit": None,
        "cap_key": None,
        "cap_limit": None,
        "contact_window_s": DAY,
        "max_contacts": None,
        "now": NOW,
    }
    args.update(kw)
    return store.reserve(customer, action, **args)  # type: ignore[arg-type]


def test_to_cents_is_exact_and_refuses_nonsense() -> None:
    assert to_cents(0.1) + to_cents(0.2) == to_cents(Decimal("0.30"))
    assert to_cents(Decimal("10.005")) == 1001
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="non-negative"):
            to_cents(bad)


def test_contact_limit_counts_only_the_window(store: CounterStore) -> None:
    for hour in range(2):
        assert reserve(store, max_contacts=2, now=NOW + hour * 3600).ok
    refused = reserve(store, max_contacts=2, now=NOW + 3 * 3600)
    assert (refused.ok, refused.refusal, refused.contacts_in_window) == (False, "contact_limit", 2)
    assert reserve(store, max_contacts=2, now=NOW + DAY + 1).ok  # the first contact aged out
    history = store.contact_history("c1", now=NOW + DAY + 1, window_s=DAY)
    assert [c.at for c in history.contacts] == [NOW + 3600, NOW + DAY + 1]
    assert history.contacts[0].action_id == "a1"


def test_decline_starts_the_cooldown(store: CounterStore) -> None:
    store.record_outcome("c1", "a1", "accepted", NOW)
    assert store.contact_history("c1", now=NOW, window_s=DAY).last_decline_at is None
    store.record_outcome("c1", "a1", "declined", NOW)
    store.record_outcome("c1", "a1", "declined", NOW - 50)  # late report of an older one
    assert store.contact_history("c1", now=NOW, window_s=DAY).last_decline_at == NOW
    assert reserve(store, now=NOW + 10, cooldown_s=3600).refusal == "cooldown"
    assert reserve(store, now=NOW + 3601, cooldown_s=3600).ok


def test_cap_and_budget_are_all_or_nothing(store: CounterStore) -> None:
    first = reserve(store, "c1", cost=6, budget_name="b", budget_limit=10, cap_key="k", cap_limit=5)
    assert first.ok
    assert first.budget_spent == Decimal("6.00")
    assert first.cap_used == 1
    refused = reserve(
        store, "c2", cost=4.01, budget_name="b", budget_limit=10, cap_key="k", cap_limit=5
    )
    assert refused.refusal == "budget_exhausted"
    assert store.cap_used("k") == 1  # the refused reservation took nothing
    assert store.contact_history("c2", now=NOW, window_s=DAY).contacts == ()
    assert reserve(
        store, "c3", cost=4, budget_name="b", budget_limit=10, cap_key="k", cap_limit=5
    ).ok
    assert store.budget_spent("b") == Decimal("10.00")
    capped = reserve(store, "c4", cap_key="one", cap_limit=0)
    assert capped.refusal == "cap_reached"


def test_release_gives_back_once(store: CounterStore) -> None:
    result = reserve(store, cost=2.5, budget_name="b", budget_limit=10, cap_key="k", cap_limit=3)
    assert result.reservation is not None
    assert store.release(result.reservation) is True
    assert store.release(result.reservation) is False
    assert store.budget_spent("b") == Decimal("0.00")
    assert store.cap_used("k") == 0
    assert store.contact_history("c1", now=NOW, window_s=DAY).contacts == ()


def _race(store: CounterStore, workers: int, attempts: int) -> list[ReservationResult]:
    results: list[ReservationResult] = []
    lock = threading.Lock()
    start = threading.Barrier(workers)

    def work(worker: int) -> None:
        start.wait()
        for i in range(attempts):
            got = reserve(
                store,
                f"w{worker}-{i}",
                cost=Decimal("0.07"),
                budget_name="race",
                budget_limit=Decimal("5.00"),
                cap_key="race",
                cap_limit=1_000,
            )
            with lock:
                results.append(got)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_budget_never_overspent_by_racing_threads(store: CounterStore) -> None:
    results = _race(store, workers=16, attempts=12)
    taken = [r for r in results if r.ok]
    spent = store.budget_spent("race")
    assert spent <= Decimal("5.00")
    assert spent == sum((Decimal("0.07") for _ in taken), Decimal("0.00"))
    assert len(taken) == 500 // 7  # 71 reservations fit; exactly as many succeeded
    assert store.cap_used("race") == len(taken)


def _reserve_in_process(args: tuple[str, str, int]) -> int:
    url, prefix, attempts = args
    store = RedisCounterStore(url, prefix=prefix, timeout=5)
    won = 0
    for i in range(attempts):
        got = store.reserve(
            f"p{multiprocessing.current_process().pid}-{i}",
            "a",
            cost=Decimal("0.30"),
            budget_name="procs",
            budget_limit=Decimal("10.00"),
            cap_key=None,
            cap_limit=None,
            contact_window_s=DAY,
            max_contacts=None,
            now=NOW,
        )
        won += got.ok
    store.close()
    return won


@pytest.mark.integration
def test_budget_never_overspent_by_racing_processes(redis_url: str, redis_prefix: str) -> None:
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        won = sum(pool.map(_reserve_in_process, [(redis_url, redis_prefix, 25)] * 4))
    store = RedisCounterStore(redis_url, prefix=redis_prefix)
    assert won == 33  # 33 x 0.30 = 9.90 <= 10.00 < 34 x 0.30
    assert store.budget_spent("procs") == Decimal("9.90")
    store.close()


def test_unreachable_redis_raises_our_error() -> None:
    store = RedisCounterStore("redis://127.0.0.1:1/0", timeout=0.2)
    with pytest.raises(CounterStoreUnavailable, match="counter store"):
        reserve(store)
    with pytest.raises(CounterStoreUnavailable):
        store.contact_history("c1", now=NOW, window_s=DAY)


def test_async_reservations_race_on_one_loop_and_share_the_sync_counters(
    store: CounterStore,
) -> None:
    """The request path reserves with ``reserve_async`` (many requests in flight on one
    event loop); the budget holds and the sync and async paths count the same money."""

    def request(i: int) -> ReservationRequest:
        return ReservationRequest(
            f"a{i}", "a", cost=Decimal("0.07"), budget_name="race", budget_limit=Decimal("5.00"),
            cap_key="race", cap_limit=1_000, contact_window_s=DAY, max_contacts=None, now=NOW,
        )  # fmt: skip

    assert reserve(store, "sync", cost=Decimal("0.07"), budget_name="race", budget_limit=5).ok

    async def race() -> list[ReservationResult]:
        try:
            racing = (store.reserve_async(request(i)) for i in range(100))
            return list(await asyncio.gather(*racing))
        finally:
            if isinstance(store, RedisCounterStore):
                store.link.close()  # on its own loop, before the loop closes

    taken = [r for r in asyncio.run(race()) if r.ok]
    assert len(taken) == 500 // 7 - 1  # 71 fit, one went to the synchronous reservation
    assert store.budget_spent("race") == Decimal("0.07") * 71
    assert store.cap_used("race") == len(taken)
    history = store.contact_history("a3", now=NOW, window_s=DAY)
    assert [c.action_id for c in history.contacts] == ["a"]


def test_unreachable_redis_fails_an_async_reservation_with_our_error() -> None:
    store = RedisCounterStore("redis://127.0.0.1:1/0", timeout=0.2)
    request = ReservationRequest(
        "c1", "a1", cost=0, budget_name=None, budget_limit=None, cap_key=None, cap_limit=None,
        contact_window_s=DAY, max_contacts=None, now=NOW,
    )  # fmt: skip
    with pytest.raises(CounterStoreUnavailable, match="counter store: ConnectionError"):
        asyncio.run(store.reserve_async(request))
    store.close()
