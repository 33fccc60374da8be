"""Bringing documents written by earlier versions to the current layout, once, at start.

`tenant_keys`: meetings were keyed by their meeting id alone and timeline entries, file
chunks and record announcements did not name their province. Each step is idempotent
(a crash half-way is finished by the next start), and a marker document makes later
starts skip the scans.
"""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from hnth_kit.mongo import Document, insert_new
from registration.store import CHUNKS, MATERIALS, MEETINGS, RECORDS, TIMELINE, meeting_key

MIGRATIONS = "migrations"
TENANT_KEYS = "tenant_keys"
PENDING_KEY = "_migrating_idempotency_key"


async def tenant_keys(db: AsyncDatabase[Document]) -> None:
    """Key meetings by (tenant, id) and put `tenant` on every document that lacked it."""
    if await db[MIGRATIONS].find_one({"_id": TENANT_KEYS}):
        return
    meetings = db[MEETINGS]
    async for old in meetings.find({"meeting_id": {"$exists": False}}):
        # the idempotency key is unique: the copy holds it aside until the original is gone
        idempotency_key = old.pop("idempotency_key", None)
        copy = {**old, "_id": meeting_key(old["tenant"], old["_id"]), "meeting_id": old["_id"]}
        if idempotency_key is not None:
            copy[PENDING_KEY] = idempotency_key
        await insert_new(meetings, [copy])
        await meetings.delete_one({"_id": old["_id"]})
    # a copy still holding its key aside: its original is deleted (again, if a crash came
    # between the two writes), then the key is taken up
    async for copy in meetings.find({PENDING_KEY: {"$exists": True}}):
        await meetings.delete_one({"_id": copy["meeting_id"]})
        await meetings.update_one(
            {"_id": copy["_id"]},
            {"$set": {"idempotency_key": copy[PENDING_KEY]}, "$unset": {PENDING_KEY: ""}},
        )
    tenant_of = {
        m["meeting_id"]: m["tenant"]
        async for m in meetings.find({}, {"meeting_id": 1, "tenant": 1})
    }
    material_tenant = {m["_id"]: m["tenant"] async for m in db[MATERIALS].find({}, {"tenant": 1})}
    for name, owner, tenants in (
        (TIMELINE, "meeting_id", tenant_of),
        (RECORDS, "meeting_id", tenant_of),
        (CHUNKS, "material_id", material_tenant),
    ):
        lacking = {
            doc.get(owner)
            async for doc in db[name].find({"tenant": {"$exists": False}}, {owner: 1})
        }
        for owner_id in lacking:
            if owner_id in tenants:
                await db[name].update_many(
                    {owner: owner_id, "tenant": {"$exists": False}},
                    {"$set": {"tenant": tenants[owner_id]}},
                )
    await insert_new(db[MIGRATIONS], [{"_id": TENANT_KEYS}])
