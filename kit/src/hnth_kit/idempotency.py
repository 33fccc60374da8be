"""The idempotent-consumer guard: "I applied message X" lives in the document it changed.

The marker (`_applied` holds the ids of the messages applied to a document), the state
change and the events it causes are ONE single-document write, so they are durable
together. A redelivered message finds its marker and changes nothing; a duplicate key
means "already done" only when the marker is there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from hnth_contracts import Event, Topics
from hnth_kit.mongo import Document, exists
from hnth_kit.outbox import announce, merge_updates, outbox_update, staged_in_new, with_outbox


class UnknownDocument(LookupError):
    """The message refers to a document this service does not have (e.g. an unknown meeting)."""


async def apply_once(
    collection: AsyncCollection[Document],
    doc_id: Any,
    marker: str,
    update: Document,
    *,
    events: Sequence[Event] = (),
    topics: Topics,
    extra_filter: Document | None = None,
) -> bool:
    """Apply `update` (and stage `events`) to the document unless `marker` was applied.

    Returns True if applied now, False if it had been applied before. Raises
    UnknownDocument when no document has that id (or `extra_filter` excludes it).
    """
    full = merge_updates(update, outbox_update(events, topics), {"$push": {"_applied": marker}})
    await announce(collection, doc_id, events)
    result = await collection.update_one(
        {"_id": doc_id, "_applied": {"$ne": marker}, **(extra_filter or {})}, full
    )
    if result.matched_count == 1:
        return True
    if await exists(collection, {"_id": doc_id, "_applied": marker}):
        return False
    raise UnknownDocument(f"{collection.name}/{doc_id}")


async def insert_once(
    collection: AsyncCollection[Document],
    document: Document,
    marker: str,
    *,
    events: Sequence[Event] = (),
    topics: Topics,
) -> bool:
    """Insert a new document (with its events) as the effect of message `marker`.

    Returns False when this very message inserted it before; re-raises DuplicateKeyError
    when the key is taken by something else (a real conflict for the caller to decide).
    """
    announcement = await announce(collection, document["_id"], events)
    staged = {**with_outbox(document, events, topics), "_applied": [marker]}
    try:
        await collection.insert_one(staged)
        staged_in_new(collection, announcement, staged)
        return True
    except DuplicateKeyError:
        if await exists(collection, {"_id": document["_id"], "_applied": marker}):
            return False
        raise
