"""Calendar feed links: one row per link, inserted once and deleted to revoke it. The
secret in the link is stored only as its hash."""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from hnth_kit.mongo import Document

FEEDS = "calendar_feeds"


class FeedStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._feeds = db[FEEDS]

    async def setup(self) -> None:
        await self._feeds.create_index([("tenant", ASCENDING), ("subject", ASCENDING)])

    async def add(self, feed: Document) -> None:
        await self._feeds.insert_one(feed)

    async def get(self, feed_id: str) -> Document | None:
        return await self._feeds.find_one({"_id": feed_id})

    async def of(self, tenant: str, subject: str | None) -> list[Document]:
        """A person's links (every link of the province when `subject` is None)."""
        query: Document = {"tenant": tenant} | ({"subject": subject} if subject else {})
        cursor = self._feeds.find(query, {"secret_hash": 0}).sort("created_at", ASCENDING)
        return [doc async for doc in cursor]

    async def remove(self, feed_id: str) -> None:
        await self._feeds.delete_one({"_id": feed_id})
