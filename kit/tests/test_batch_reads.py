"""A consumer batch's reads made once at its start (`hnth_kit.batch_reads`), on the real
database."""

from __future__ import annotations

from pymongo import monitoring

from hnth_kit.batch_reads import (
    batch_reads,
    find_by_id,
    find_grouped,
    forget,
    forget_all,
    prefetch,
    prefetch_grouped,
)
from hnth_kit.mongo import connect


async def test_outside_a_batch_every_read_goes_to_the_database(db) -> None:
    await prefetch(db["meetings"], ["m-1"])
    await db["meetings"].insert_one({"_id": "m-1", "title": "Giao ban"})
    assert await find_by_id(db["meetings"], "m-1") == {"_id": "m-1", "title": "Giao ban"}


async def test_a_batch_reads_its_documents_once_and_answers_from_memory(db) -> None:
    await db["meetings"].insert_many([{"_id": "m-1", "revision": 1}, {"_id": "m-2"}])
    with batch_reads():
        await prefetch(db["meetings"], ["m-1", "m-3", "m-1"])
        # written by nobody in a real batch; here it shows the answers come from memory
        await db["meetings"].update_one({"_id": "m-1"}, {"$set": {"revision": 2}})
        await db["meetings"].insert_one({"_id": "m-3"})
        assert await find_by_id(db["meetings"], "m-1") == {"_id": "m-1", "revision": 1}
        assert await find_by_id(db["meetings"], "m-3") is None, "absent at the batch's start"
        assert await find_by_id(db["meetings"], "m-2") == {"_id": "m-2"}, "not prefetched"
        forget(db["meetings"], "m-1")  # a handler wrote it
        assert await find_by_id(db["meetings"], "m-1") == {"_id": "m-1", "revision": 2}
        forget_all()  # a province moved
        assert await find_by_id(db["meetings"], "m-3") == {"_id": "m-3"}
    await db["meetings"].update_one({"_id": "m-2"}, {"$set": {"revision": 5}})
    assert await find_by_id(db["meetings"], "m-2") == {"_id": "m-2", "revision": 5}


async def test_a_prefetch_is_one_query_per_collection(db, infra) -> None:
    finds: list[str] = []

    class Finds(monitoring.CommandListener):
        def started(self, event: monitoring.CommandStartedEvent) -> None:
            if event.command_name == "find":
                finds.append(str(event.command["find"]))

        def succeeded(self, event: monitoring.CommandSucceededEvent) -> None: ...

        def failed(self, event: monitoring.CommandFailedEvent) -> None: ...

    client = connect(infra.mongodb_url, event_listeners=[Finds()])
    try:
        meetings = client[db.name]["meetings"]
        await meetings.insert_many([{"_id": f"m-{n}"} for n in range(20)])
        with batch_reads():
            await prefetch(meetings, [f"m-{n}" for n in range(25)])
            await prefetch(meetings, ["m-1", "m-2"])  # already read
            found = [await find_by_id(meetings, f"m-{n}") for n in range(25)]
        assert sum(d is not None for d in found) == 20
        assert finds == ["meetings"]
    finally:
        await client.close()


async def test_a_grouped_read_answers_each_key_and_a_write_to_a_group_forgets_it(db) -> None:
    parked = db["parked"]
    await parked.insert_many(
        [
            {"_id": "p-1", "meeting_id": "m-1"},
            {"_id": "p-2", "meeting_id": "m-1"},
            {"_id": "p-3", "meeting_id": "m-9"},
        ]
    )
    query = {"meeting_id": {"$in": ["m-1", "m-2"]}}

    def key_of(doc: dict) -> str:
        return str(doc["meeting_id"])

    with batch_reads():
        await prefetch_grouped(parked, query, ["m-1", "m-2"], key_of)
        await parked.insert_one({"_id": "p-4", "meeting_id": "m-2"})  # not by this batch
        m1 = await find_grouped(parked, "m-1", {"meeting_id": "m-1"})
        assert sorted(d["_id"] for d in m1) == ["p-1", "p-2"]
        assert await find_grouped(parked, "m-2", {"meeting_id": "m-2"}) == []
        forget(parked, "m-2")  # a handler parked one
        assert [d["_id"] for d in await find_grouped(parked, "m-2", {"meeting_id": "m-2"})] == [
            "p-4"
        ]
        found = await find_grouped(parked, "m-9", {"meeting_id": "m-9"})
        assert [d["_id"] for d in found] == ["p-3"], "not read for the batch: read now"
