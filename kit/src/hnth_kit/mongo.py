"""The Mongo client: PyMongo's AsyncMongoClient (motor's successor), UTC-aware."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

Document = dict[str, Any]
DUPLICATE_KEY = 11000
NAMESPACE_NOT_FOUND = 26


def connect(url: str, **options: Any) -> AsyncMongoClient[Document]:
    """A client that returns aware UTC datetimes; it connects lazily on first use."""
    options.setdefault("serverSelectionTimeoutMS", 5000)
    options.setdefault("appname", "hnth-ops")
    return AsyncMongoClient(url, tz_aware=True, tzinfo=UTC, **options)


async def ping(db: AsyncDatabase[Document]) -> None:
    """Raise unless the database server answers."""
    await db.command("ping")


async def exists(collection: AsyncCollection[Document], query: Document) -> bool:
    """Whether a document matches: one `find` of its `_id`. (`count_documents` is an
    aggregation, which FerretDB runs through its pipeline: 3% of its CPU in the e2e bench
    for the per-meeting "cancelled yet?" checks alone.)"""
    return await collection.find_one(query, {"_id": 1}) is not None


async def size_of(collection: AsyncCollection[Document]) -> int:
    """How many documents the collection holds, from its statistics (`$collStats`), not
    by reading them: `count_documents({})` made FerretDB 1.24 read and decode every
    document (about half a second for notification's ten thousand pending timers, in the
    e2e bench), where `$collStats` counts its SQLite table's rows from the pages' headers
    and MongoDB answers from its metadata (which an unclean shutdown may leave off until
    the collection is validated: good enough for a gauge). 0 for a collection not made yet."""
    try:
        stats = await (await collection.aggregate([{"$collStats": {"count": {}}}])).to_list()
    except OperationFailure as exc:
        if exc.code == NAMESPACE_NOT_FOUND:
            return 0
        raise
    return sum(int(shard.get("count") or 0) for shard in stats)  # one a shard on MongoDB


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


async def take_lease(
    collection: AsyncCollection[Document],
    lease_id: str,
    owner: str,
    now: datetime,
    lease: timedelta,
) -> bool:
    """Insert the lease `lease_id` for `owner` until `now + lease`; False while another
    owner holds it. A lease that ran out (its holder died) is taken over. The insert
    decides, so two takers never both win, on FerretDB as on MongoDB."""
    claim = {"_id": lease_id, "owner": owner, "until": now + lease}
    for _ in range(2):
        try:
            await collection.insert_one(claim)
            return True
        except DuplicateKeyError:
            expired = await collection.delete_one({"_id": lease_id, "until": {"$lt": now}})
            if expired.deleted_count == 0:
                return False
    return False
