"""A consumer batch's deferred inserts (`hnth_kit.batch_writes`) on the real database."""

from __future__ import annotations

import asyncio

import pytest

from hnth_kit import batch_reads
from hnth_kit.batch_reads import batch_reads as reading_batch
from hnth_kit.batch_writes import (
    batch_writes,
    flush_in_batch,
    held_in_batch,
    insert_new_in_batch,
    insert_new_or,
    settle,
)


async def _ids(collection) -> set[str]:
    return {d["_id"] async for d in collection.find({}, {"_id": 1})}


async def test_outside_a_batch_the_row_is_inserted_at_once(db) -> None:
    await insert_new_in_batch(db["facts"], [{"_id": "a"}])
    assert await _ids(db["facts"]) == {"a"}


async def test_a_batch_inserts_its_rows_together_when_it_ends(db) -> None:
    await db["facts"].insert_one({"_id": "old"})
    async with batch_writes():
        await insert_new_in_batch(db["facts"], [{"_id": "a"}])
        await insert_new_in_batch(db["facts"], [{"_id": "a"}, {"_id": "old"}])  # redelivered
        await insert_new_in_batch(db["other"], [{"_id": "b"}])
        assert await _ids(db["facts"]) == {"old"}, "kept until the batch ends"
    assert await _ids(db["facts"]) == {"old", "a"}
    assert await _ids(db["other"]) == {"b"}


async def test_a_batch_that_raises_inserts_nothing_and_its_redelivery_does(db) -> None:
    async def batch_that_fails() -> None:
        async with batch_writes():
            await insert_new_in_batch(db["facts"], [{"_id": "a"}])
            raise ConnectionError("the database went away mid-batch")

    with pytest.raises(ConnectionError):
        await batch_that_fails()
    assert await _ids(db["facts"]) == set()
    async with batch_writes():
        await insert_new_in_batch(db["facts"], [{"_id": "a"}])
    assert await _ids(db["facts"]) == {"a"}


async def test_a_flush_inserts_what_the_batch_has_so_far(db) -> None:
    """As a province's move does before it looks for the former province's documents."""
    async with batch_writes():
        await insert_new_in_batch(db["facts"], [{"_id": "f-1", "tenant": "old"}])
        await flush_in_batch()
        assert await db["facts"].count_documents({"tenant": "old"}) == 1
        await insert_new_in_batch(db["facts"], [{"_id": "f-2"}])
        assert await db["facts"].count_documents({}) == 1
    assert {d["_id"] async for d in db["facts"].find({})} == {"f-1", "f-2"}


async def _replace(collection, doc) -> None:
    await collection.replace_one({"_id": doc["_id"]}, doc)


async def test_a_new_document_is_inserted_at_the_batch_end_and_read_from_memory_meanwhile(
    db,
) -> None:
    meetings = db["meetings"]
    with reading_batch():
        async with batch_writes():
            await batch_reads.prefetch(meetings, ["m-1"])
            assert await batch_reads.find_by_id(meetings, "m-1") is None
            await insert_new_or(meetings, [{"_id": "m-1", "revision": 1}], _unused)
            await insert_new_or(meetings, [{"_id": "m-2", "revision": 1}], _unused)
            assert await batch_reads.find_by_id(meetings, "m-1") == {"_id": "m-1", "revision": 1}
            assert await batch_reads.find_by_id(meetings, "m-2") == {"_id": "m-2", "revision": 1}
            assert await _ids(meetings) == set(), "held until the batch ends"
    assert [d async for d in meetings.find({}).sort("_id")] == [
        {"_id": "m-1", "revision": 1},
        {"_id": "m-2", "revision": 1},
    ]


async def _unused(doc) -> None:
    raise AssertionError(f"{doc['_id']} was not taken")


async def test_a_new_document_whose_id_turns_out_taken_is_written_by_the_fallback(db) -> None:
    """Another replica (or the batch's earlier delivery) inserted it meanwhile."""
    meetings = db["meetings"]
    await meetings.insert_one({"_id": "m-1", "revision": 1, "by": "other"})
    taken: list[str] = []

    async def replace(doc) -> None:
        taken.append(doc["_id"])
        await _replace(meetings, doc)

    async with batch_writes():
        await insert_new_or(meetings, [{"_id": "m-1", "revision": 2}], replace)
        await insert_new_or(meetings, [{"_id": "m-2", "revision": 1}], replace)
    assert taken == ["m-1"]
    assert await meetings.find_one({"_id": "m-1"}) == {"_id": "m-1", "revision": 2}
    # outside a batch: at once, and the same fallback
    await insert_new_or(meetings, [{"_id": "m-2", "revision": 3}], replace)
    assert taken == ["m-1", "m-2"]
    assert await meetings.find_one({"_id": "m-2"}) == {"_id": "m-2", "revision": 3}


async def test_settle_makes_every_held_write_in_order_once_one_is_for_the_collection(
    db,
) -> None:
    """Before a handler queries the collection otherwise than by the batch's reads. The
    writes held before go too, first: a timer held before a checklist must not land first."""
    seen_by_timers: list[tuple[set[str], set[str]]] = []

    class Timers:  # what is in the database when the timers are written
        async def flush(self) -> None:
            seen_by_timers.append((await _ids(db["facts"]), await _ids(db["meetings"])))

    async with batch_writes():
        await insert_new_in_batch(db["facts"], [{"_id": "f-1"}])
        await settle(db["meetings"])  # nothing of it held: nothing is written
        assert await _ids(db["facts"]) == set()
        await insert_new_or(db["meetings"], [{"_id": "m-1"}], _unused)
        assert held_in_batch("timers", Timers) is not None
        await insert_new_in_batch(db["meetings"], [{"_id": "m-2"}])
        await settle(db["meetings"])
        assert await _ids(db["meetings"]) == {"m-1", "m-2"}
        assert await _ids(db["facts"]) == {"f-1"}, "held before, written before"
        assert seen_by_timers == [({"f-1"}, {"m-1"})], "each before what was held after it"
        await insert_new_or(db["meetings"], [{"_id": "m-3"}], _unused)
    assert await _ids(db["meetings"]) == {"m-1", "m-2", "m-3"}


async def test_a_batch_that_raises_inserts_none_of_its_new_documents(db) -> None:
    async def batch_that_fails() -> None:
        async with batch_writes():
            await insert_new_or(db["meetings"], [{"_id": "m-1"}], _unused)
            raise ConnectionError("the database went away mid-batch")

    with pytest.raises(ConnectionError):
        await batch_that_fails()
    assert await _ids(db["meetings"]) == set()


async def test_reads_gathered_at_once_each_find_the_held_rows(db) -> None:
    """The first to settle inserts them; the others wait until they are in (not only until
    they were taken out to be inserted)."""
    async with batch_writes():
        await insert_new_in_batch(db["facts"], [{"_id": f"f-{n}"} for n in range(5)])

        async def read(n: int) -> object:
            await settle(db["facts"])
            return await db["facts"].find_one({"_id": f"f-{n}"})

        found = await asyncio.gather(*(read(n) for n in range(5)))
    assert found == [{"_id": f"f-{n}"} for n in range(5)]
