"""The Mongo client: PyMongo's AsyncMongoClient (motor's successor), UTC-aware."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]


def connect(url: str, **options: Any) -> AsyncMongoClient[Document]:
    """A client that returns aware UTC datetimes; it connects lazily on first use."""
    options.setdefault("serverSelectionTimeoutMS", 5000)
    options.setdefault("appname", "hnth-ops")
    return AsyncMongoClient(url, tz_aware=True, tzinfo=UTC, **options)


async def ping(db: AsyncDatabase[Document]) -> None:
    """Raise unless the database server answers."""
    await db.command("ping")
