"""Single sign-on's one collection: the id_tokens already exchanged (by their hash), one
row each with a unique `_id`, so of two requests with the same token exactly one wins."""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hnth_kit.mongo import Document

SSO_USED = "sso_used"


class SsoStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._used = db[SSO_USED]

    async def first_use(self, digest: str, tenant: str, at: datetime) -> bool:
        """Record the id_token as exchanged; False if it already was."""
        try:
            await self._used.insert_one({"_id": digest, "tenant": tenant, "at": at})
        except DuplicateKeyError:
            return False
        return True
