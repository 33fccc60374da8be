"""A collection's size from its statistics (`hnth_kit.mongo.size_of`), on the real
database: exact on FerretDB's SQLite tables, as a count of the documents would be."""

from __future__ import annotations

from hnth_kit.mongo import size_of


async def test_a_collections_size_follows_its_inserts_and_deletes(db) -> None:
    queue = db["timer_queue"]
    assert await size_of(queue) == 0, "not made yet"
    await queue.insert_many([{"_id": f"t-{n}", "payload": "x" * 300} for n in range(2500)])
    assert await size_of(queue) == 2500
    await queue.delete_many({"_id": {"$in": [f"t-{n}" for n in range(0, 2500, 2)]}})
    assert await size_of(queue) == await queue.count_documents({}) == 1250
    await queue.delete_many({})
    assert await size_of(queue) == 0, "made, and empty"
