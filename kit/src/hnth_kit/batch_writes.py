"""Inserts a consumer batch makes once, at its end (issue 20: one write per collection per
batch instead of one per message).

A handler that records a fact nothing else in the same batch reads back (a timeline
entry, a delivered notice) calls `insert_new_in_batch`. One that saves a new document the
batch's later messages may read (a meeting as a service keeps it) calls `insert_new_or`:
the batch's reads (`batch_reads.find_by_id`) see it at once, and every other read or
write of that collection in the batch calls `settle` first, which makes what is held.

Inside a batch (`EventConsumer.process_batch` wraps each in `batch_writes()`) the rows
are kept and inserted together when every message of the batch is handled, BEFORE its
offsets are committed and before its messages count as handled: a crash or a raise
before that redelivers the batch, and the rows are inserted again (`insert_new`: a taken
`_id` stays as it is), so nothing is lost. Outside a batch (HTTP, a timer, a test) every
write is made at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Protocol, TypeVar

from pymongo.asynchronous.collection import AsyncCollection

from hnth_kit import batch_reads
from hnth_kit.mongo import Document, insert_new


class Held(Protocol):
    """What a batch holds until its end: `flush` makes the writes."""

    async def flush(self) -> None: ...


HeldT = TypeVar("HeldT", bound=Held)


class _Inserts:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection
        self.docs: list[Document] = []

    async def flush(self) -> None:
        await insert_new(self.collection, self.docs)


Taken = Callable[[Document], Awaitable[None]]
"""What to write instead of a new document whose `_id` turned out to be taken."""


class _NewDocs:
    def __init__(self, collection: AsyncCollection[Document], taken: Taken) -> None:
        self.collection = collection
        self.taken = taken
        self.docs: dict[object, Document] = {}

    async def flush(self) -> None:
        await _insert_or(self.collection, list(self.docs.values()), self.taken)
        self.docs = {}


async def _insert_or(
    collection: AsyncCollection[Document], docs: Sequence[Document], taken: Taken
) -> None:
    found = await insert_new(collection, docs)
    for doc in docs:
        if doc["_id"] in found:
            await taken(doc)


def _key(collection: AsyncCollection[Document]) -> str:
    return f"{collection.database.name}.{collection.name}"


def _new_key(collection: AsyncCollection[Document]) -> str:
    """Where `insert_new_or`'s documents are held, beside the collection's plain rows."""
    return f"{_key(collection)} new"


class BatchWrites:
    """What a batch will write at its end, by key, flushed in the order each was first
    used: the rows to insert per collection, and what a service gathers itself."""

    def __init__(self) -> None:
        self._held: dict[str, Held] = {}
        self._writes: set[str] = set()
        """The collections what is held writes (`settle` makes it before they are used)."""
        self._writing = asyncio.Lock()
        """Held while writes are made: a task that settles while another does (a handler's
        reads gathered at once) waits until the rows are in, not only taken out."""

    def held(
        self, key: str, make: Callable[[], HeldT], writes: AsyncCollection[Document] | None = None
    ) -> HeldT:
        found = self._held.get(key)
        if found is None:
            found = self._held[key] = make()
        if writes is not None:
            self._writes.add(_key(writes))
        return found  # type: ignore[return-value] # one key, one kind

    def add(self, collection: AsyncCollection[Document], docs: Sequence[Document]) -> None:
        self.held(_key(collection), lambda: _Inserts(collection), collection).docs.extend(docs)

    def add_new(
        self, collection: AsyncCollection[Document], docs: Sequence[Document], taken: Taken
    ) -> None:
        held = self.held(_new_key(collection), lambda: _NewDocs(collection, taken), collection)
        held.docs.update((doc["_id"], doc) for doc in docs)

    async def settle(self, collection: AsyncCollection[Document]) -> None:
        """When any write held is for `collection`, make every write held so far, in the
        order held: one held later must not land before one held earlier (a meeting's
        deadline timer before its checklists, which it would find missing)."""
        async with self._writing:
            if _key(collection) in self._writes:
                await self._write_held()

    def discard(
        self, collection: AsyncCollection[Document], undone: Callable[[Document], bool]
    ) -> None:
        """Drop rows not inserted yet (what a later message of the batch undid)."""
        held = self._held.get(_key(collection))
        if isinstance(held, _Inserts):
            held.docs[:] = [d for d in held.docs if not undone(d)]

    async def flush(self) -> None:
        async with self._writing:
            await self._write_held()

    async def _write_held(self) -> None:
        # a write may hold more (a decision's timers, scheduled once it is in): those too
        while self._held:
            held, self._held = list(self._held.items()), {}
            writes, self._writes = self._writes, set()
            for n, (_, each) in enumerate(held):
                try:
                    await each.flush()
                except BaseException:
                    # what was not written stays held, ahead of what was held meanwhile
                    # (writes are idempotent, the failed one is made again whole): a
                    # handler retried after a settle that failed (the database away) must
                    # not find the earlier messages' rows gone while they count as handled
                    self._held = {**dict(held[n:]), **self._held}
                    self._writes |= writes
                    raise


_current: ContextVar[BatchWrites | None] = ContextVar("hnth_batch_writes", default=None)


@asynccontextmanager
async def batch_writes() -> AsyncIterator[BatchWrites]:
    """Collect the batch's `insert_new_in_batch` rows; insert them when the block ends
    without a raise (a raise leaves them to the batch's redelivery)."""
    batch = BatchWrites()
    token = _current.set(batch)
    try:
        yield batch
    finally:
        _current.reset(token)
    await batch.flush()


async def insert_new_in_batch(
    collection: AsyncCollection[Document], docs: Sequence[Document]
) -> None:
    """`insert_new`, made with the rest of the consumer batch when called in one."""
    batch = _current.get()
    if batch is None:
        await insert_new(collection, docs)
    else:
        batch.add(collection, docs)


async def insert_new_or(
    collection: AsyncCollection[Document], docs: Sequence[Document], taken: Taken
) -> None:
    """Insert new documents; for each whose `_id` turns out taken (a redelivery, another
    replica), `taken(doc)` writes it instead. In a consumer batch they are inserted with
    the rest at its end (one insert for the batch), and the batch's `find_by_id` answers
    them from memory meanwhile; a handler that reads or changes the collection otherwise
    calls `settle` first."""
    batch = _current.get()
    if batch is None:
        await _insert_or(collection, docs, taken)
        return
    batch.add_new(collection, docs, taken)
    batch_reads.remember(collection, docs)


async def settle(collection: AsyncCollection[Document]) -> None:
    """Make the consumer batch's held writes now when any is for `collection` (no-op
    outside a batch): before a query or a write of it that does not go through
    `batch_reads`. Everything held so far is written, in the order held."""
    batch = _current.get()
    if batch is not None:
        await batch.settle(collection)


async def before_writing(collection: AsyncCollection[Document], doc_id: str) -> None:
    """Before a handler writes this document itself (an update, a replace): what the batch
    holds for the collection is made first (the document may be among it), and the
    batch's reads ask the database for it from then on."""
    await settle(collection)
    batch_reads.forget(collection, doc_id)


def held_in_batch(
    key: str, make: Callable[[], HeldT], writes: AsyncCollection[Document] | None = None
) -> HeldT | None:
    """What the consumer batch gathers under `key` (made by `make` at its first use, and
    flushed with the batch's inserts), or None outside a batch, where the caller writes
    at once. For a service's own writes that are cheaper made once for the batch.
    `writes`: the collection it writes, which `settle` then makes it for."""
    batch = _current.get()
    return None if batch is None else batch.held(key, make, writes)


def discard_in_batch(
    collection: AsyncCollection[Document], undone: Callable[[Document], bool]
) -> None:
    """Forget the batch's pending `insert_new_in_batch` rows that `undone` picks (no-op
    outside a batch, where they were inserted at once)."""
    batch = _current.get()
    if batch is not None:
        batch.discard(collection, undone)


async def flush_in_batch() -> None:
    """Insert what the consumer batch has collected so far, now (no-op outside a batch):
    for a step that must find the rows, as a province's move must find the facts of the
    messages before it in the same batch, or would leave them under the former province."""
    batch = _current.get()
    if batch is not None:
        await batch.flush()
