"""A consumer batch's deferred inserts (`hnth_kit.batch_writes`) on the real database."""

from __future__ import annotations

import pytest

from hnth_kit.batch_writes import batch_writes, flush_in_batch, insert_new_in_batch


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
