"""Database commands are counted by command and collection."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import SimpleNamespace

from hnth_kit.metrics import DbCommandTimer, Metrics


def _command(
    timer: DbCommandTimer,
    request_id: int,
    name: str,
    command: dict[str, object],
    reply: dict[str, object] | None = None,
) -> None:
    timer.started(SimpleNamespace(request_id=request_id, command_name=name, command=command))  # type: ignore[arg-type]
    succeeded = SimpleNamespace(request_id=request_id, duration_micros=2000, reply=reply or {})
    timer.succeeded(succeeded)  # type: ignore[arg-type]


def test_each_command_is_counted_under_its_collection_a_get_more_too() -> None:
    metrics = Metrics("test")
    timer = DbCommandTimer(metrics)
    _command(timer, 1, "find", {"find": "notices", "filter": {}})
    _command(timer, 2, "getMore", {"getMore": 7216, "collection": "notices"})
    _command(timer, 3, "ping", {"ping": 1})
    counts = {
        (s.labels["command"], s.labels["collection"]): s.value
        for family in metrics.registry.collect()
        for s in family.samples
        if s.name == "hnth_db_command_seconds_count"
    }
    assert counts == {("find", "notices"): 1, ("getMore", "notices"): 1, ("ping", ""): 1}


def test_the_documents_a_read_returned_are_counted_under_its_collection() -> None:
    metrics = Metrics("test")
    timer = DbCommandTimer(metrics)
    first = {"cursor": {"id": 7, "firstBatch": [{"_id": 1}, {"_id": 2}]}, "ok": 1}
    _command(timer, 1, "find", {"find": "notices", "filter": {}}, first)
    more = {"cursor": {"id": 0, "nextBatch": [{"_id": 3}]}, "ok": 1}
    _command(timer, 2, "getMore", {"getMore": 7, "collection": "notices"}, more)
    _command(timer, 3, "insert", {"insert": "notices"}, {"n": 1, "ok": 1})
    documents = {
        (s.labels["command"], s.labels["collection"]): s.value
        for family in metrics.registry.collect()
        for s in family.samples
        if s.name == "hnth_db_documents_returned_total"
    }
    assert documents == {("find", "notices"): 2, ("getMore", "notices"): 1}


async def test_a_refresh_runs_at_most_once_in_its_interval() -> None:
    metrics, runs = Metrics("test"), {"each": 0, "hourly": 0}

    def counting(name: str) -> Callable[[], Awaitable[None]]:
        async def refresh() -> None:
            runs[name] += 1

        return refresh

    metrics.refresh_on_scrape("each", counting("each"))
    metrics.refresh_on_scrape("hourly", counting("hourly"), every=3600)
    await metrics.render()
    await metrics.render()
    assert runs == {"each": 2, "hourly": 1}
