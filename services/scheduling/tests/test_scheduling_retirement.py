"""Past days' claim and release partitions are dropped (`SchedulingStore.retire_days`):
every collection left makes each read dearer on FerretDB 1.24, and no request can take a
slot in the past. What the days ahead hold is untouched, and deciding goes on."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from scheduling_samples import DAY, NOW, requested

from hnth_kit.testing import eventually
from scheduling.store import partition_day

pytestmark = pytest.mark.integration


def test_only_claim_and_release_partitions_have_a_day() -> None:
    assert partition_day("claims_20261210") == date(2026, 12, 10)
    assert partition_day("releases_20261130") == date(2026, 11, 30)
    assert partition_day("decisions") is None
    assert partition_day("claims_2026121") is None
    assert partition_day("notes_20261210") is None


async def test_past_days_are_dropped_and_the_days_ahead_kept(make_scheduler, db) -> None:
    scheduler = make_scheduler()
    old = "claims_20261101", "releases_20261101", "claims_20261123"
    for name in old:
        await db[name].insert_one({"_id": "k"})
    first = await scheduler.decide(requested("m-1"))
    assert first is not None
    assert first["outcome"] == "assigned"
    ahead = f"claims_{DAY:%Y%m%d}"
    assert ahead in await db.list_collection_names()

    retired = await scheduler.store.retire_days(date(2026, 11, 24))
    assert retired == sorted(old)
    names = set(await db.list_collection_names())
    assert not names & set(old)
    assert ahead in names, "a day ahead is kept"
    assert await scheduler.store.retire_days(date(2026, 11, 24)) == [], "twice is a no-op"

    clash = await scheduler.decide(requested("m-2", start=DAY + timedelta(hours=1)))
    assert clash is not None
    assert clash["outcome"] == "rejected", "the claims ahead still decide"


async def test_the_service_retires_past_days_at_start(make_service, db) -> None:
    kept_from = NOW.date() - timedelta(days=7)
    old = f"claims_{kept_from - timedelta(days=1):%Y%m%d}"
    recent = f"claims_{kept_from:%Y%m%d}"
    for name in (old, recent):
        await db[name].insert_one({"_id": "k"})
    assert datetime(2026, 11, 24, tzinfo=UTC).date() == kept_from
    await make_service(claim_days_kept=7)
    names = await eventually(db.list_collection_names, until=lambda n: old not in n)
    assert recent in names
