"""The Mongo client: PyMongo's AsyncMongoClient (motor's successor), UTC-aware."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

Document = dict[str, Any]
DUPLICATE_KEY = 11000


def connect(url: str, **options: Any) -> AsyncMongoClient[Document]:
    """A client that returns aware UTC datetimes; it connects lazily on first use."""
    options.setdefault("serverSelectionTimeoutMS", 5000)
    options.setdefault("appname", "hnth-ops")
    return AsyncMongoClient(url, tz_aware=True, tzinfo=UTC, **options)


async def ping(db: AsyncDatabase[Document]) -> None:
    """Raise unless the database server answers."""
    await db.command("ping")


async def insert_new(collection: AsyncCollection[Document], docs: Sequence[Document]) -> set[Any]:
    """Insert the documents; one whose `_id` is taken stays as it is. Returns the taken
    ids; any other write error is raised. (Inserts with a unique `_id` are how replicas
    decide things on FerretDB and MongoDB alike.)"""
    if not docs:
        return set()
    try:
        await collection.insert_many(list(docs), ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise
        return {docs[e["index"]]["_id"] for e in errors}
    return set()
