"""Reads a consumer batch makes once, at its start (issue 20: one `find` per collection per
batch instead of one `find_one` per message).

Before a batch's messages are handled, the service is shown the events it will handle
(`Service.prefetch`) and reads the documents they will look up by `_id` in one query per
collection (`prefetch`), or those one query finds, by a key of the caller's
(`prefetch_grouped`). While the batch runs, `find_by_id` and `find_grouped` answer
those from memory.

Only for documents that nothing but the consumer itself writes (timers and HTTP requests
run outside the batch and do not see its reads): every write a handler makes to one of
them calls `forget`, so the next read goes to the database, and a province's move
forgets them all. Outside a batch (HTTP, a timer, a test) every read goes to the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pymongo.asynchronous.collection import AsyncCollection

from hnth_kit.mongo import Document

Known = dict[str, dict[str, Document | list[Document] | None]]
"""By collection, by `_id`: the document as the batch's start read it (None: absent);
by collection + `GROUPED`, by the caller's key: the documents a query found."""

GROUPED = "|grouped"

_current: ContextVar[Known | None] = ContextVar("hnth_batch_reads", default=None)


@contextmanager
def batch_reads() -> Iterator[None]:
    """Keep what `prefetch` reads until the block ends (then forget it, also for a task
    started inside the block, which holds the same context)."""
    known: Known = {}
    token = _current.set(known)
    try:
        yield
    finally:
        _current.reset(token)
        known.clear()


def _name(collection: AsyncCollection[Document]) -> str:
    return f"{collection.database.name}.{collection.name}"


async def prefetch(collection: AsyncCollection[Document], ids: Iterable[str]) -> None:
    """Read these documents now, in one query, for the rest of the batch (no-op outside
    one, and for ids already read)."""
    known = _current.get()
    if known is None:
        return
    seen = known.setdefault(_name(collection), {})
    wanted = [i for i in dict.fromkeys(ids) if i not in seen]
    if not wanted:
        return
    found = {d["_id"]: d async for d in collection.find({"_id": {"$in": wanted}})}
    for doc_id in wanted:
        seen[doc_id] = found.get(doc_id)


async def find_by_id(collection: AsyncCollection[Document], doc_id: str) -> Document | None:
    """The document with this `_id`: the batch's read of it when there is one (callers do
    not change what they get), the database's otherwise."""
    seen = (_current.get() or {}).get(_name(collection))
    if seen is not None and doc_id in seen:
        found = seen[doc_id]
        assert not isinstance(found, list)
        return found
    return await collection.find_one({"_id": doc_id})


async def prefetch_grouped(
    collection: AsyncCollection[Document],
    query: Document,
    keys: Iterable[str],
    key_of: Callable[[Document], str],
) -> None:
    """Read what `query` finds now, in one query, for the rest of the batch, grouped by
    `key_of` for each of `keys` (a key nothing was found for: an empty group). No-op
    outside a batch, and when every key was read already."""
    known = _current.get()
    if known is None:
        return
    seen = known.setdefault(_name(collection) + GROUPED, {})
    wanted = [k for k in dict.fromkeys(keys) if k not in seen]
    if not wanted:
        return
    groups: dict[str, list[Document]] = {k: [] for k in wanted}
    async for doc in collection.find(query):
        groups.get(key_of(doc), []).append(doc)
    seen.update(groups)


async def find_grouped(
    collection: AsyncCollection[Document], key: str, query: Document
) -> list[Document]:
    """The documents the batch's `prefetch_grouped` found under `key`, or what `query`
    finds now when it read none for it."""
    seen = (_current.get() or {}).get(_name(collection) + GROUPED)
    if seen is not None and key in seen:
        found = seen[key]
        assert isinstance(found, list)
        return list(found)
    return [doc async for doc in collection.find(query)]


def forget(collection: AsyncCollection[Document], key: str) -> None:
    """A handler wrote this document (an `_id`), or one of this group (a key of
    `prefetch_grouped`): read it from the database from now on."""
    known = _current.get() or {}
    for seen in (known.get(_name(collection)), known.get(_name(collection) + GROUPED)):
        if seen is not None:
            seen.pop(key, None)


def forget_all() -> None:
    """Documents moved under another key (a province merged or renamed): read them all
    from the database from now on."""
    known = _current.get()
    if known is not None:
        known.clear()
