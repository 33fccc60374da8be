"""Reads a consumer batch makes once, at its start (issue 20: one `find` per collection per
batch instead of one `find_one` per message).

Before a batch's messages are handled, the service is shown the events it will handle
(`Service.prefetch`) and reads the documents they will look up by `_id` in one query per
collection (`prefetch`), or those one query finds, by a key of the caller's
(`prefetch_grouped`). While the batch runs, `find_by_id` and `find_grouped` answer
those from memory.

Only for documents that nothing but the consumer itself writes (timers and HTTP requests
run outside the batch and do not see its reads), or whose state as of the batch's start
is as good as a read a moment later (scheduling's first decision of a new request): every
write a handler makes to one of them calls `forget`, so the next read goes to the
database, or `remember`s the new document it will insert at the batch's end
(`batch_writes.insert_new_or`); a province's move forgets them all. Outside a batch
(HTTP, a timer, a test) every read goes to the database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from pymongo.asynchronous.collection import AsyncCollection

from hnth_contracts import Event, meetings_named
from hnth_kit.mongo import Document


@dataclass
class _Known:
    """What the batch's start read, by collection."""

    by_id: dict[str, dict[str, Document | None]] = field(default_factory=dict)
    """By `_id`: the document (None: absent)."""
    grouped: dict[str, dict[str, list[Document]]] = field(default_factory=dict)
    """By the caller's key: the documents a query found."""

    def clear(self) -> None:
        self.by_id.clear()
        self.grouped.clear()


_current: ContextVar[_Known | None] = ContextVar("hnth_batch_reads", default=None)


@contextmanager
def batch_reads() -> Iterator[None]:
    """Keep what `prefetch` reads until the block ends (then forget it, also for a task
    started inside the block, which holds the same context)."""
    known = _Known()
    token = _current.set(known)
    try:
        yield
    finally:
        _current.reset(token)
        known.clear()


def by_meeting(
    of: tuple[type[Event], ...], read: Callable[[list[tuple[str, str]]], Awaitable[None]]
) -> Callable[[Sequence[Event]], Awaitable[None]]:
    """A prefetch (`Service.prefetch`) that `read`s the (tenant, meeting id) of a batch's
    events of the types `of` (those whose handling reads their meeting)."""

    async def prefetch(events: Sequence[Event]) -> None:
        await read(meetings_named(events, of))

    return prefetch


def _name(collection: AsyncCollection[Document]) -> str:
    return f"{collection.database.name}.{collection.name}"


async def prefetch(collection: AsyncCollection[Document], ids: Iterable[str]) -> None:
    """Read these documents now, in one query, for the rest of the batch (no-op outside
    one, and for ids already read)."""
    known = _current.get()
    if known is None:
        return
    seen = known.by_id.setdefault(_name(collection), {})
    wanted = [i for i in dict.fromkeys(ids) if i not in seen]
    if not wanted:
        return
    found = {d["_id"]: d async for d in collection.find({"_id": {"$in": wanted}})}
    for doc_id in wanted:
        seen[doc_id] = found.get(doc_id)


async def find_by_id(collection: AsyncCollection[Document], doc_id: str) -> Document | None:
    """The document with this `_id`: the batch's read of it when there is one (callers do
    not change what they get), the database's otherwise."""
    known = _current.get()
    seen = known.by_id.get(_name(collection), {}) if known else {}
    if doc_id in seen:
        return seen[doc_id]
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
    seen = known.grouped.setdefault(_name(collection), {})
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
    known = _current.get()
    seen = known.grouped.get(_name(collection), {}) if known else {}
    if key in seen:
        return list(seen[key])
    return [doc async for doc in collection.find(query)]


def remember(collection: AsyncCollection[Document], docs: Iterable[Document]) -> None:
    """A handler saved these documents (written at the batch's end,
    `batch_writes.insert_new_or`): `find_by_id` answers them from memory meanwhile."""
    known = _current.get()
    if known is not None:
        seen = known.by_id.setdefault(_name(collection), {})
        seen.update((doc["_id"], dict(doc)) for doc in docs)  # the held one stays as saved


def forget(collection: AsyncCollection[Document], key: str) -> None:
    """A handler wrote this document (an `_id`), or one of this group (a key of
    `prefetch_grouped`): read it from the database from now on."""
    known = _current.get()
    if known is not None:
        known.by_id.get(_name(collection), {}).pop(key, None)
        known.grouped.get(_name(collection), {}).pop(key, None)


def forget_all() -> None:
    """Documents moved under another key (a province merged or renamed): read them all
    from the database from now on."""
    known = _current.get()
    if known is not None:
        known.clear()
