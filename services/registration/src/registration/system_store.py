"""Integrating systems (issue 21): the `systems` collection and its typed queries.

One document per system, `_id` its client id:
`{_id, tenant, name, unit, disabled, secret_hash, created_at}` (+ `disabled_at` once
disabled). The inbound consumer reads it too. Disabling stages the `TokensRevoked` on the
system's document in the same write (the outbox). Failed token requests are counted with
the password sign-in's attempts (`login_attempts`, username = the client id).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hnth_contracts import Event, Topics
from hnth_kit.mongo import Document
from hnth_kit.outbox import announce, hide_outbox, merge_updates, outbox_update
from registration.store import Entries

SYSTEMS = "systems"


class SystemStore:
    def __init__(self, db: AsyncDatabase[Document], topics: Topics, units: Entries) -> None:
        self._systems = db[SYSTEMS]
        self._topics, self._units = topics, units

    async def setup(self) -> None:
        await self._systems.create_index([("tenant", ASCENDING), ("name", ASCENDING)], unique=True)

    async def unit_active(self, tenant: str, unit: str) -> bool | None:
        """Whether the province's unit is active; None when it has no such unit."""
        return (await self._units.active(tenant, [unit])).get(unit)

    async def system(self, client_id: str) -> Document | None:
        return await self._systems.find_one({"_id": client_id}, hide_outbox())

    async def systems(self, tenant: str) -> list[Document]:
        cursor = self._systems.find({"tenant": tenant}, hide_outbox())
        return [doc async for doc in cursor.sort("name", ASCENDING)]

    async def create_system(self, system: Document) -> bool:
        """Insert a new system; False if its id or its name in the province is taken."""
        try:
            await self._systems.insert_one(system)
        except DuplicateKeyError:
            return False
        return True

    async def disable_system(self, client_id: str, at: datetime, events: Sequence[Event]) -> bool:
        """Mark an enabled system disabled, with its events; False if it already was."""
        update = merge_updates(
            {"$set": {"disabled": True, "disabled_at": at}}, outbox_update(events, self._topics)
        )
        await announce(self._systems, client_id, events)
        result = await self._systems.update_one({"_id": client_id, "disabled": False}, update)
        return result.matched_count == 1
