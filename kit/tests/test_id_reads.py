"""Reads by `_id` on the real database (FerretDB with our patch): an empty `$in` is
answered without reading the collection."""

from __future__ import annotations


async def test_an_empty_id_list_reads_nothing(db) -> None:
    await db["things"].insert_many([{"_id": f"t-{n}"} for n in range(5)])
    assert [d async for d in db["things"].find({"_id": {"$in": []}})] == []
    assert [d["_id"] async for d in db["things"].find({"_id": {"$in": ["t-1"]}})] == ["t-1"]
    plan = await db.command("explain", {"find": "things", "filter": {"_id": {"$in": []}}})
    # FerretDB: the SQL holds `WHERE 0`, which SQLite checks once, before any row;
    # MongoDB: an EOF stage
    assert plan.get("filterPushdown") is True or "EOF" in str(plan), plan
