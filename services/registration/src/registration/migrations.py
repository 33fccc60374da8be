"""Bringing documents written by earlier versions to the current layout, once, at start.

`two_tiers`: the district level is gone (see the step).

`tenant_keys`: meetings were keyed by their meeting id alone and timeline entries, file
chunks and record announcements did not name their province. Each step is idempotent
(a crash half-way is finished by the next start), and a marker document makes later
starts skip the scans.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel

from hnth_contracts import EndpointUpdated, Event, UnitKind, UnitUpdated
from hnth_kit.mongo import Document
from registration.directory import (
    DirectoryFile,
    EndpointIn,
    UnitIn,
    add_endpoint,
    add_unit,
    snapshot,
)
from registration.store import (
    CHUNKS,
    PENDING_KEY,
    RECORDS,
    TIMELINE,
    Entries,
    RegistrationStore,
    Upgrades,
    meeting_key,
)

__all__ = ["PENDING_KEY", "TENANT_KEYS", "TWO_TIERS", "tenant_keys", "two_tiers"]

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


TWO_TIERS = "two_tiers"


async def two_tiers(
    upgrades: Upgrades, store: RegistrationStore, files: Sequence[DirectoryFile], now: datetime
) -> None:
    """The map since 1 July 2025 (issue 18): no district level. Each stored district unit
    becomes an inactive unit of kind `other` (`former_kind: district`) and its endpoints
    inactive, each with its snapshot event, so every service's copy follows; the entries
    stay, so past meetings still name them. A province that has a directory then gets the
    entries its data file has and the store lacks (its commune-level units). Run before
    `load_if_empty`: an empty province is loaded from its file as usual."""
    if await upgrades.done(TWO_TIERS):
        return
    for unit in await store.units.matching({"kind": UnitKind.DISTRICT.value}):
        tenant = unit["tenant"]
        for endpoint in await store.endpoints.list(tenant, {"unit": unit["code"], "active": True}):
            await _retire(store.endpoints, EndpointUpdated, EndpointIn, endpoint, {}, now)
        changes = {"kind": UnitKind.OTHER.value, "former_kind": UnitKind.DISTRICT.value}
        await _retire(store.units, UnitUpdated, UnitIn, unit, changes, now)
    for data in files:
        if not await store.units.count(data.tenant):
            continue  # loaded whole by load_if_empty
        for new_unit in data.units:
            await add_unit(store, data.tenant, new_unit, now)  # a code already there: no-op
        for new_endpoint in data.endpoints:
            await add_endpoint(store, data.tenant, new_endpoint, now)
    await upgrades.mark_done(TWO_TIERS)


async def _retire(
    entries: Entries,
    kind: type[Event],
    fields: type[BaseModel],
    current: Document,
    changes: Document,
    now: datetime,
) -> None:
    """Write the entry inactive with `changes` and its snapshot (a version someone else
    wrote meanwhile: the next start finishes the step)."""
    tenant = current["tenant"]
    state = {k: current[k] for k in fields.model_fields if k in current}
    state |= {k: v for k, v in changes.items() if k in fields.model_fields} | {"active": False}
    event = snapshot(kind, tenant, state, now)
    written = {**changes, "active": False, "updated_at": now}
    await entries.replace(tenant, current["code"], current["version"], written, event)
