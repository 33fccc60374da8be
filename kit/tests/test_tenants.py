"""The tenant mover on the real database: a province's documents move under another,
re-keyed, colliding codes renamed, markers and unique keys handled; interrupted half way
(a copy inserted, its original not yet deleted; a copy holding its unique key aside) and
run again, nothing is lost and nothing doubled."""

from __future__ import annotations

from datetime import UTC, datetime

from hnth_contracts import RuleRef, TenantMerged
from hnth_kit.tenants import HELD, CodeFields, TenantChange, TenantMover

NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
MEETINGS = CodeFields(units=("host_unit",), endpoints=("endpoints",), unique=("key",))
UNITS = CodeFields(units=("code",), key="code")


def _event() -> TenantMerged:
    return TenantMerged.create(
        tenant="bien-dong",
        into="tuyen-quang",
        units={"VP-UBND": "BIEN-DONG-VP-UBND"},
        rule=RuleRef(rule="tenant.merged", source="Nghị quyết 202/2025/QH15"),
        requested_by="test",
        correlation_id="tenant:bien-dong",
        producer="registration",
        occurred_at=NOW,
    )


async def _province(db) -> None:
    await db.meetings.create_index("key", unique=True, sparse=True)
    await db.units.insert_many(
        [
            {"_id": "tuyen-quang:VP-UBND", "tenant": "tuyen-quang", "code": "VP-UBND"},
            {"_id": "bien-dong:VP-UBND", "tenant": "bien-dong", "code": "VP-UBND"},
            {"_id": "bien-dong:SYT", "tenant": "bien-dong", "code": "SYT"},
            {"_id": "bien-dong", "tenant": "bien-dong", "contacts": "its own"},
        ]
    )
    await db.meetings.insert_many(
        [
            {
                "_id": f"bien-dong|m-{n}",
                "tenant": "bien-dong",
                "host_unit": "VP-UBND",
                "endpoints": ["BD-UBND"],
                "key": f"k-{n}",
            }
            for n in range(25)
        ]
        + [{"_id": "bien-dong|*"}, {"_id": "tuyen-quang|*"}]
    )


async def test_a_merge_moves_every_document_once_also_when_run_again_after_a_crash(db) -> None:
    await _province(db)
    mover = TenantMover(db, "test", batch=7)
    mover.moves({"units": UNITS, "meetings": MEETINGS})
    change = await mover.record(_event(), NOW)
    # a crash half way: one copy inserted (holding its key aside), its original still there
    crashed = change.moved(await db.meetings.find_one({"_id": "bien-dong|m-0"}), MEETINGS)
    assert crashed is not None
    crashed[HELD] = {"key": crashed.pop("key")}
    await db.meetings.insert_one(crashed)

    await mover.run(change)
    await mover.run(change)  # and once more, as a redelivery would

    meetings = [m async for m in db.meetings.find({"tenant": "tuyen-quang"})]
    assert sorted(m["_id"] for m in meetings) == sorted(f"tuyen-quang|m-{n}" for n in range(25))
    assert {m["host_unit"] for m in meetings} == {"BIEN-DONG-VP-UBND"}
    assert {m["former_tenant"] for m in meetings} == {"bien-dong"}
    assert sorted(m["key"] for m in meetings) == sorted(f"k-{n}" for n in range(25))
    assert not [m async for m in db.meetings.find({HELD: {"$exists": True}})]
    assert (
        await db.meetings.count_documents({"_id": {"$in": ["bien-dong|*", "tuyen-quang|*"]}}) == 1
    )
    units = {u["_id"]: u async for u in db.units.find({})}
    assert set(units) == {
        "tuyen-quang:VP-UBND",
        "tuyen-quang:BIEN-DONG-VP-UBND",
        "tuyen-quang:SYT",
        "bien-dong",  # the former province's singleton stays its record
    }
    assert units["tuyen-quang:VP-UBND"].get("former_tenant") is None
    progress = await mover.progress("bien-dong")
    assert progress is not None
    assert progress["done"] is True
    assert progress["remaining"] == {"units": 0, "meetings": 0}


async def test_the_registry_is_read_back_by_another_replica(db) -> None:
    first, second = TenantMover(db, "test"), TenantMover(db, "test")
    await first.record(_event(), NOW)
    assert second.retired("bien-dong") is None
    await second.refresh()
    found = second.retired("bien-dong")
    assert isinstance(found, TenantChange)
    assert (found.into, found.units["VP-UBND"]) == ("tuyen-quang", "BIEN-DONG-VP-UBND")
