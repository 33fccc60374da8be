"""Bringing documents written by earlier versions to the current layout, once, at start.

`tenant_keys`: meetings were keyed by their meeting id alone and timeline entries, file
chunks and record announcements did not name their province. Each step is idempotent
(a crash half-way is finished by the next start), and a marker document makes later
starts skip the scans.
"""

from __future__ import annotations

from registration.store import (
    CHUNKS,
    PENDING_KEY,
    RECORDS,
    TIMELINE,
    Upgrades,
    meeting_key,
)

__all__ = ["PENDING_KEY", "TENANT_KEYS", "tenant_keys"]

TENANT_KEYS = "tenant_keys"


async def tenant_keys(upgrades: Upgrades) -> None:
    """Key meetings by (tenant, id) and put `tenant` on every document that lacked it."""
    if await upgrades.done(TENANT_KEYS):
        return
    async for old in upgrades.unkeyed_meetings():
        # the idempotency key is unique: the copy holds it aside until the original is gone
        idempotency_key = old.pop("idempotency_key", None)
        copy = {**old, "_id": meeting_key(old["tenant"], old["_id"]), "meeting_id": old["_id"]}
        if idempotency_key is not None:
            copy[PENDING_KEY] = idempotency_key
        await upgrades.insert_meeting(copy)
        await upgrades.delete_meeting(old["_id"])
    # a copy still holding its key aside: its original is deleted (again, if a crash came
    # between the two writes), then the key is taken up
    async for copy in upgrades.held_keys():
        await upgrades.delete_meeting(copy["meeting_id"])
        await upgrades.take_up_key(copy["_id"], copy[PENDING_KEY])
    tenant_of = await upgrades.meeting_tenants()
    material_tenant = await upgrades.material_tenants()
    for name, owner, tenants in (
        (TIMELINE, "meeting_id", tenant_of),
        (RECORDS, "meeting_id", tenant_of),
        (CHUNKS, "material_id", material_tenant),
    ):
        for owner_id in await upgrades.owners_lacking_tenant(name, owner):
            if owner_id in tenants:
                await upgrades.set_tenant(name, owner, owner_id, tenants[owner_id])
    await upgrades.mark_done(TENANT_KEYS)
