"""Accounts and sign-in: the collections and their typed queries.

FerretDB applies an update as read-modify-replace, so only the account document itself is
updated (by an operator or its owner, with its `version`); everything replicas decide
concurrently is an INSERT with a unique `_id` (a duplicate key = already there):
- `login_attempts`: one row per attempt, so every replica counts the same failures;
- `refresh_tokens` (keyed by the token's hash) and `refresh_used` (a rotated or signed-out
  token's hash), `refresh_revoked` (a session family whose rotated token came back);
- `access_links` (a set-password link's token hash) and `access_links_used`;
- `audit`: what an operator lists.
Events (TokensRevoked, AccessLinkIssued) are staged on the account document in the same
write as the change that causes them (the outbox).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hnth_contracts import Event, Topics
from hnth_kit.mongo import Document, exists
from hnth_kit.outbox import announce, merge_updates, outbox_update, with_outbox
from registration.domain.accounts import Attempt
from registration.store import Entries, StaleWrite, claim_version

ACCOUNTS = "accounts"
ATTEMPTS = "login_attempts"
AUDIT = "audit"
REFRESH = "refresh_tokens"
REFRESH_USED = "refresh_used"
REFRESH_REVOKED = "refresh_revoked"
LINKS = "access_links"
LINKS_USED = "access_links_used"
HIDDEN = {"_outbox": 0, "_outbox_n": 0, "_outbox_at": 0, "_applied": 0}


def account_id(tenant: str, username: str) -> str:
    return f"{tenant}:{username}"


class AccountStore:
    def __init__(
        self, db: AsyncDatabase[Document], topics: Topics, units: Entries, endpoints: Entries
    ) -> None:
        self._db, self._topics = db, topics
        self._accounts = db[ACCOUNTS]
        self._units, self._endpoints = units, endpoints

    async def setup(self) -> None:
        await self._accounts.create_index([("tenant", ASCENDING), ("username", ASCENDING)])
        await self._db[ATTEMPTS].create_index(
            [("tenant", ASCENDING), ("username", ASCENDING), ("at", DESCENDING)]
        )
        await self._db[AUDIT].create_index([("tenant", ASCENDING), ("at", DESCENDING)])

    # ------------------------------------------------------------------ directory

    async def directory(
        self, tenant: str, unit: str | None, endpoints: Sequence[str]
    ) -> tuple[dict[str, bool], dict[str, bool]]:
        """code -> active, for the unit and endpoints that exist."""
        units = await self._units.active(tenant, [unit]) if unit else {}
        return units, await self._endpoints.active(tenant, endpoints)

    # ------------------------------------------------------------------ accounts

    async def account(self, tenant: str, username: str) -> Document | None:
        return await self._accounts.find_one({"_id": account_id(tenant, username)}, HIDDEN)

    async def names(self, tenant: str, usernames: Collection[str]) -> dict[str, str]:
        ids = [account_id(tenant, u) for u in usernames]
        cursor = self._accounts.find({"_id": {"$in": ids}}, {"username": 1, "display_name": 1})
        return {doc["username"]: doc["display_name"] async for doc in cursor}

    async def accounts(self, tenant: str, filters: Document) -> list[Document]:
        cursor = self._accounts.find({"tenant": tenant, **filters}, HIDDEN)
        return [doc async for doc in cursor.sort("username", ASCENDING)]

    async def create_account(self, account: Document, events: Sequence[Event]) -> bool:
        """Insert a new account (with its events); False if the username is taken."""
        await announce(self._accounts, account["_id"], events)
        try:
            await self._accounts.insert_one(with_outbox(account, events, self._topics))
        except DuplicateKeyError:
            return False
        return True

    async def update_account(
        self,
        tenant: str,
        username: str,
        version: int,
        fields: Document,
        events: Sequence[Event] = (),
        unset: Sequence[str] = (),
    ) -> None:
        """Write the account's change if it is still at `version`; StaleWrite otherwise."""
        update = merge_updates(
            {"$set": fields, "$inc": {"version": 1}},
            {"$unset": dict.fromkeys(unset, "")} if unset else {},
            outbox_update(events, self._topics),
        )
        key = account_id(tenant, username)
        await claim_version(self._accounts, key, version)  # FerretDB: no compare-and-set
        await announce(self._accounts, key, events)
        result = await self._accounts.update_one({"_id": key, "version": version}, update)
        if result.matched_count != 1:
            raise StaleWrite(key)

    # ------------------------------------------------------------------ sign-in attempts

    async def attempts(self, tenant: str, username: str, since: datetime) -> list[Attempt]:
        cursor = self._db[ATTEMPTS].find(
            {"tenant": tenant, "username": username, "at": {"$gt": since}}
        )
        return [Attempt(doc["at"], doc["ok"]) async for doc in cursor]

    async def record_attempt(self, tenant: str, username: str, at: datetime, ok: bool) -> None:
        row = {"_id": uuid.uuid4().hex, "tenant": tenant, "username": username, "at": at}
        await self._db[ATTEMPTS].insert_one(row | {"ok": ok})

    # ------------------------------------------------------------------ audit

    async def audit(self, row: Document) -> None:
        await self._db[AUDIT].insert_one({"_id": uuid.uuid4().hex, **row})

    async def audit_rows(self, tenant: str, filters: Document, limit: int) -> list[Document]:
        cursor = self._db[AUDIT].find({"tenant": tenant, **filters}, {"_id": 0})
        return [doc async for doc in cursor.sort("at", DESCENDING).limit(limit)]

    # ------------------------------------------------------------------ one-use tokens

    async def save_token(self, kind: str, row: Document) -> None:
        """A refresh token or set-password link (`_id`: the hash of its secret)."""
        await self._db[_KINDS[kind][0]].insert_one(row)

    async def token(self, kind: str, digest: str) -> Document | None:
        return await self._db[_KINDS[kind][0]].find_one({"_id": digest})

    async def token_used(self, kind: str, digest: str) -> bool:
        return await exists(self._db[_KINDS[kind][1]], {"_id": digest})

    async def use_token(self, kind: str, digest: str, at: datetime) -> bool:
        """Mark the token used; False if it was already (another request used it)."""
        return await self._insert(_KINDS[kind][1], {"_id": digest, "at": at})

    async def revoke_family(self, family: str, at: datetime) -> None:
        await self._insert(REFRESH_REVOKED, {"_id": family, "at": at})

    async def family_revoked(self, family: str) -> bool:
        return await exists(self._db[REFRESH_REVOKED], {"_id": family})

    async def _insert(self, collection: str, row: dict[str, Any]) -> bool:
        try:
            await self._db[collection].insert_one(row)
        except DuplicateKeyError:
            return False
        return True


_KINDS = {"refresh": (REFRESH, REFRESH_USED), "link": (LINKS, LINKS_USED)}
