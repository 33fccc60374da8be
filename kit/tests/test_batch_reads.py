"""A consumer batch's reads made once at its start (`hnth_kit.batch_reads`), on the real
database."""

from __future__ import annotations

from pymongo import monitoring

from hnth_kit.batch_reads import batch_reads, find_by_id, forget, forget_all, prefetch
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
