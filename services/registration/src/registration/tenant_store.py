"""The province changes registration recorded (`tenant_ops`, one per former province,
with its `TenantMerged` / `TenantRenamed` in the outbox), and the codes a change must
keep unique."""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hnth_contracts import TenantMerged, TenantRenamed, Topics
from hnth_kit.idempotency import insert_once
from hnth_kit.mongo import Document
from hnth_kit.outbox import hide_outbox
from registration.account_store import ACCOUNTS
from registration.domain.tenants import Codes
from registration.store import ENDPOINTS, UNITS

TENANT_OPS = "tenant_ops"
TENANT_CONSENTS = "tenant_consents"
"""Each province's request for a merge not made yet: `<former>><into>@<province>`."""


class TenantOpsStore:
    def __init__(self, db: AsyncDatabase[Document], topics: Topics) -> None:
        self._db = db
        self._ops = db[TENANT_OPS]
        self._topics = topics

    async def codes(self, tenant: str) -> Codes:
        """The province's unit and endpoint codes and usernames (moved ones included)."""

        async def of(name: str, field: str) -> frozenset[str]:
            cursor = self._db[name].find({"tenant": tenant}, {field: 1})
            return frozenset([doc[field] async for doc in cursor if field in doc])

        return Codes(
            units=await of(UNITS, "code"),
            endpoints=await of(ENDPOINTS, "code"),
            accounts=await of(ACCOUNTS, "username"),
        )

    async def recorded(self, former: str) -> TenantMerged | None:
        row = await self._ops.find_one({"_id": former}, hide_outbox())
        if row is None:
            return None
        kind = TenantRenamed if row["renamed"] else TenantMerged
        return kind.model_validate_json(row["event"])

    async def all(self) -> list[Document]:
        return [row async for row in self._ops.find({}, hide_outbox())]

    async def agree(self, former: str, into: str, province: str, by: str, at: datetime) -> None:
        """`province`'s IT department asks that `former` joins `into` (asking again keeps
        the first request)."""
        await self._db[TENANT_CONSENTS].update_one(
            {"_id": _consent_id(former, into, province)},
            {
                "$setOnInsert": {
                    "former": former,
                    "into": into,
                    "province": province,
                    "by": by,
                    "at": at,
                }
            },
            upsert=True,
        )

    async def agreed(self, former: str, into: str, province: str) -> bool:
        found = await self._db[TENANT_CONSENTS].find_one(
            {"_id": _consent_id(former, into, province)}, {"_id": 1}
        )
        return found is not None

    async def record(self, event: TenantMerged) -> bool:
        """Keep the change with its event (outbox); False when one was recorded before."""
        row = {
            "_id": event.tenant,
            "into": event.into,
            "renamed": isinstance(event, TenantRenamed),
            "event": event.to_json().decode(),
            "at": event.occurred_at,
        }
        try:
            await insert_once(
                self._ops, row, str(event.event_id), events=[event], topics=self._topics
            )
        except DuplicateKeyError:
            return False
        return True


def _consent_id(former: str, into: str, province: str) -> str:
    return f"{former}>{into}@{province}"
