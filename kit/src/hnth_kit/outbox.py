"""The transactional outbox on single-document writes.

A state change and the events it causes are written in ONE document write: the events
are appended to the document's `_outbox` array (with `_outbox_n` counting them and
`_outbox_at` the time of the last append). The relay publishes them in order with the
idempotent producer and then records each as sent by INSERTING a marker
(`outbox_sent/<event_id>`). The relay never rewrites a state document.

Why markers and not "clear the array": FerretDB v1 applies an update as read-then-
replace-whole-document, so a relay rewriting a document could silently undo a state
change written at the same moment. Inserts with a unique `_id` are atomic on both
FerretDB and MongoDB, so every cross-replica decision here is an insert:

- one relay per collection at a time: the replica that inserts the lease document of
  the current time bucket relays during that bucket;
- a crash after publishing and before the marker republishes the event on restart:
  a duplicate (consumers are idempotent), never a loss. A consumer batch publishes its
  new documents' events from memory right after its write and leaves their markers and
  its announcements' delete to the relay's next pass (`settle`): two writes a second,
  not two a batch.

Where to look: the state collections grow for ever, and FerretDB 1.24 scans a whole
collection for any filter but `_id`, so a relay that searched them on every pass would
slow down with history. A writer therefore ANNOUNCES its events (`announce`) in the small
`outbox_pending` collection just BEFORE the write that stages them; the relay reads the
announcements, fetches the named documents by `_id`, publishes, and deletes an
announcement once its events are published (or, when they never appeared, once it is
old enough that the write cannot still be on its way: the writer failed or found the
change applied already). An announcement whose events have not appeared within
`ANNOUNCEMENT_GRACE` is read again only every `sweep_seconds` (so a redelivery's
announcement, whose write found the change applied, costs nothing on the hot path) and
dropped after `ANNOUNCEMENT_EXPIRY`. A full sweep of the collections, for events staged
without an announcement (older code), runs once, at start: every pass after it reads
only `_id`s, so its cost does not grow with the collections' history.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hnth_contracts import Event, Topics, key_of
from hnth_kit.kafka import EVENT_TYPE_HEADER, OutMessage, Producer
from hnth_kit.metrics import Metrics
from hnth_kit.mongo import Document, insert_new
from hnth_kit.waiting import wait_event

log = logging.getLogger(__name__)

SENT = "outbox_sent"
LEASES = "outbox_leases"
CHECKPOINTS = "outbox_checkpoints"
PENDING = "outbox_pending"
ANNOUNCEMENT_GRACE = timedelta(seconds=30)
"""How long an announcement is read on every pass while its events have not appeared;
after that it is read once per `sweep_seconds`."""
ANNOUNCEMENT_EXPIRY = timedelta(minutes=10)
"""How long an announcement waits for its events to appear before it is dropped: longer
than any write can still be on its way."""
PASS_LIMIT = 1000
"""Announcements one pass publishes at most (the rest wait for the next pass)."""
CLOCK_MARGIN = timedelta(seconds=30)
"""How far back a relay looks before its checkpoint: covers writers' clock skew."""
SETTLE_BEFORE_BUCKET_END = 2.0
"""Seconds before its lease's time bucket ends from which a relay settles what a batch
published at once, not at its next pass: the next bucket's holder, maybe another replica,
would find those announcements still there and publish their events again."""


def outbox_entries(events: Iterable[Event], topics: Topics) -> list[Document]:
    """The stored form of events waiting to be published."""
    return [
        {
            "event_id": str(e.event_id),
            "type": e.type,
            "topic": topics.of(e),
            "key": key_of(e).decode(),
            "value": e.to_json().decode(),
        }
        for e in events
    ]


def merge_updates(*updates: Document) -> Document:
    """Merge update documents operator by operator (`$set` with `$set`, ...)."""
    merged: Document = {}
    for update in updates:
        for op, fields in update.items():
            merged.setdefault(op, {}).update(fields)
    return merged


def outbox_update(events: Sequence[Event], topics: Topics) -> Document:
    """The update fragment that stages `events` in the same write as a state change."""
    return outbox_push(outbox_entries(events, topics))


def outbox_push(entries: Sequence[Document]) -> Document:
    """`outbox_update` of events already in their stored form (`outbox_entries`)."""
    if not entries:
        return {}
    return {
        "$push": {"_outbox": {"$each": list(entries)}},
        "$inc": {"_outbox_n": len(entries)},
        "$set": {"_outbox_at": datetime.now(UTC)},
    }


def with_outbox(document: Document, events: Sequence[Event], topics: Topics) -> Document:
    """A new document carrying `events` in its outbox (for an insert)."""
    staged: Document = {"_outbox": outbox_entries(events, topics), "_outbox_n": len(events)}
    if events:
        staged["_outbox_at"] = datetime.now(UTC)
    return {**document, **staged}


@dataclass(frozen=True)
class Staged:
    """Events a NEW document was inserted with, as the writer has them in memory."""

    collection: str
    doc_id: object
    announcement: str
    entries: list[Document]


@dataclass
class Staging:
    """What one consumer batch staged: how many announcements it made, and the events of
    the new documents among them (`staged_in_new`), which the batch publishes from memory
    at its end (`OutboxRelay.publish_staged`) instead of waiting for a pass to read them."""

    announced: int = 0
    fresh: list[Staged] = field(default_factory=list)

    def clear(self) -> None:
        """After publishing a part of the batch: the rest starts afresh."""
        self.announced = 0
        self.fresh = []


_staging: ContextVar[Staging | None] = ContextVar("hnth_outbox_staging", default=None)
_open: dict[int, Staging] = {}
"""The stagings under way in this process, by id (see `in_flight`)."""


@contextmanager
def staging() -> Iterator[Staging]:
    """Collect what the block stages (a consumer batch); outside one nothing is kept. The
    block publishes them from memory before it ends (`OutboxRelay.publish_staged`)."""
    staged = Staging()
    token = _staging.set(staged)
    _open[id(staged)] = staged
    try:
        yield staged
    finally:
        _staging.reset(token)
        del _open[id(staged)]


def hand_over(staged: Staging) -> Staging:
    """What the block staged so far, taken out of it for a task to publish while the block
    goes on (`Service.publish_behind`): in flight until that task calls `published`."""
    taken = Staging(staged.announced, staged.fresh)
    _open[id(taken)] = taken
    staged.clear()
    return taken


def published(taken: Staging) -> None:
    """The task that took `taken` over is done with it (published, or left to a pass)."""
    _open.pop(id(taken), None)


def in_flight() -> set[str]:
    """The announcements of new documents a staging under way will publish from memory
    before it ends: a pass leaves them to it (reading them back would cost the reads it
    saves, and each pass at the wrong moment found some). A staging that ends without
    publishing them (a raise, a lost lease) leaves them to the next pass."""
    return {s.announcement for staged in _open.values() for s in staged.fresh}


def in_staging() -> bool:
    return _staging.get() is not None


async def announce(
    collection: AsyncCollection[Document], doc_id: object, events: Sequence[Event]
) -> str | None:
    """Tell the relay where `events` will be staged; call just BEFORE the write. Returns
    the announcement's id (None: no events).

    Before, not after: a crash between the two then leaves an announcement without
    events (dropped later), never events that no announcement points to.
    """
    if not events:
        return None
    announcement = uuid.uuid4().hex
    await collection.database[PENDING].insert_one(
        {
            "_id": announcement,
            "collection": collection.name,
            "doc": doc_id,
            "events": [str(e.event_id) for e in events],
            "at": datetime.now(UTC),
        }
    )
    staged = _staging.get()
    if staged is not None:
        staged.announced += 1
    return announcement


def staged_in_new(
    collection: AsyncCollection[Document], announcement: str | None, document: Document
) -> None:
    """Call right after inserting `document` (NEW: nothing of it was staged before) with
    the events `announcement` named: in a consumer batch they are published from memory
    when the batch ends. Outside one, the relay's next pass publishes them as ever."""
    staged_first(collection, announcement, document["_id"], document.get("_outbox") or [])


def staged_first(
    collection: AsyncCollection[Document],
    announcement: str | None,
    doc_id: object,
    entries: Sequence[Document],
) -> None:
    """`staged_in_new` for a write that staged `entries` as the FIRST events of a document
    that was there already (nothing of it was staged before, as a notice's one delivery)."""
    staged = _staging.get()
    if staged is not None and announcement is not None and entries:
        staged.fresh.append(Staged(collection.name, doc_id, announcement, list(entries)))


async def announce_many(
    collection: AsyncCollection[Document], staged: Sequence[tuple[object, Sequence[Event]]]
) -> list[str | None]:
    """`announce` for several documents' writes, in one insert (each `(doc_id, events)`);
    the announcements' ids, in the same order (None: no events)."""
    now = datetime.now(UTC)
    ids = [uuid.uuid4().hex if events else None for _, events in staged]
    rows = [
        {
            "_id": announcement,
            "collection": collection.name,
            "doc": doc_id,
            "events": [str(e.event_id) for e in events],
            "at": now,
        }
        for announcement, (doc_id, events) in zip(ids, staged, strict=True)
        if announcement is not None
    ]
    if rows:
        await collection.database[PENDING].insert_many(rows)
        batch = _staging.get()
        if batch is not None:
            batch.announced += len(rows)
    return ids


def hide_outbox() -> Document:
    """Projection that keeps the outbox bookkeeping out of read models."""
    return {"_outbox": 0, "_outbox_n": 0, "_outbox_at": 0, "_applied": 0}


class OutboxRelay:
    """Publishes staged events from the given collections.

    Any number of replicas may run one; per collection and per time bucket only the
    replica holding the lease relays, so events are published in order, and once but
    for two cases, both at-least-once: a crash between publishing and the marker, and a
    pass still publishing when the bucket ends while the next holder starts (a pass is
    one batch whose lease is checked before it is sent, so that is one batch at most).
    """

    def __init__(
        self,
        db: AsyncDatabase[Document],
        collections: Sequence[str],
        producer: Producer,
        *,
        poll_seconds: float = 0.25,
        sweep_seconds: float = 60.0,
        idle_poll_seconds: float = 1.0,
        bucket_seconds: int = 10,
        owner: str = "relay",
        metrics: Metrics | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self._collections = list(collections)
        self._producer = producer
        self._poll = poll_seconds
        self._idle_poll = max(idle_poll_seconds, poll_seconds)
        self._sweep = sweep_seconds
        self._next_sweep = 0.0  # the first pass reads every announcement
        self._swept: set[str] = set()
        """Collections swept whole (once, at start: what was staged without announcement)."""
        self._bucket = bucket_seconds
        self._now = now
        """The wall clock (leases and markers are between replicas, not business time)."""
        self._owner = owner
        self._wakeup = asyncio.Event()
        self._lock = asyncio.Lock()
        """One publisher at a time (a pass, or a batch's new documents): each document's
        events go out in order, and what one published the other skips (`_known`)."""
        self._known: dict[tuple[str, object], int] = {}
        """(collection, document id) -> number of its events known to be sent."""
        self._checkpoint: dict[str, datetime] = {}
        self._unsettled_marks: list[Document] = []
        self._unsettled: list[str] = []
        """What batches published from memory and has not been settled yet: the sent
        markers to insert and the announcements to delete (`settle`)."""
        self._leases: dict[str, tuple[int, bool]] = {}
        """collection -> (time bucket, whether this replica holds its lease)."""
        self.published = 0
        self.metrics = metrics

    def wake(self) -> None:
        """Ask for a pass now (after a local write) instead of at the next poll."""
        self._wakeup.set()

    async def ensure_indexes(self) -> None:
        for name in self._collections:
            await self._db[name].create_index("_outbox_at", name="outbox_at", sparse=True)

    async def run(self) -> None:
        """Relay until cancelled; errors are logged and retried after a pause. The poll
        doubles after each pass that published nothing, up to `idle_poll_seconds`, and is
        back to `poll_seconds` after one that did: a busy replica publishes its own from
        memory and wakes the relay for the rest, so a quiet pass is the usual one, while
        another replica's writes (this one holding the lease) keep the passes frequent."""
        await self.ensure_indexes()
        wait = self._poll
        while True:
            self._wakeup.clear()
            try:
                sent = await self.drain()
                wait = self._poll if sent else min(wait * 2, self._idle_poll)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay pass failed; retrying")
                await asyncio.sleep(1)
            await wait_event(self._wakeup, wait)

    async def drain(self) -> int:
        """Publish everything pending in the collections this replica holds the lease for."""
        async with self._lock:
            return await self._drain()

    async def publish_staged(self, staged: Staging) -> bool:
        """Publish a batch's new documents' events from memory, once they are written: one
        producer send, and none of a pass's reads (their documents were new, so nothing of
        theirs was published before, unless a pass just did: `_known` skips that). Only
        where this replica holds the collection's lease; the rest wait for a pass. Their
        sent markers and announcements' delete are left to `settle`, at the next pass:
        two writes a second, not two a batch (at 50 meetings/s a batch is one or two
        meetings, and those writes were an eighth of the database's commands). A crash
        before then publishes them again, as a crash before the marker always did.
        Returns whether the batch left no announcement for a pass."""
        if not staged.fresh:
            return staged.announced == 0
        async with self._lock:
            mine = [s for s in staged.fresh if await self._hold_lease(s.collection)]
            if mine:
                self.published += await self._publish(
                    [((s.collection, s.doc_id), e) for s in mine for e in s.entries],
                    read_markers=False,
                    settle_later=True,
                )
                self._unsettled += [s.announcement for s in mine]
                if self._bucket_ends_soon():
                    await self._settle()
        return len(mine) == staged.announced

    async def settle(self) -> None:
        """Write what batches published from memory down as published (at a stop)."""
        async with self._lock:
            await self._settle()

    async def _settle(self) -> None:
        """The sent markers, then the announcements' delete (a crash between the two only
        leaves announcements whose events are marked sent). On failure they are kept for
        the next try."""
        marks, self._unsettled_marks = self._unsettled_marks, []
        done, self._unsettled = self._unsettled, []
        try:
            await insert_new(self._db[SENT], marks)
            if done:
                await self._db[PENDING].delete_many({"_id": {"$in": done}})
        except BaseException:
            self._unsettled_marks[:0], self._unsettled[:0] = marks, done
            raise

    def _bucket_ends_soon(self) -> bool:
        return self._now().timestamp() % self._bucket >= self._bucket - SETTLE_BEFORE_BUCKET_END

    async def _drain(self) -> int:
        await self._settle()  # before reading the announcements: they are done
        held = [name for name in self._collections if await self._hold_lease(name)]
        late = time.monotonic() >= self._next_sweep
        if late:
            self._next_sweep = time.monotonic() + self._sweep
        sent = await self._drain_announced(held, late) if held else 0
        for name in held:
            if name not in self._swept:  # the start-up sweep, once per collection
                sent += await self._drain_collection(name)
                self._swept.add(name)
        self.published += sent
        return sent

    async def _drain_announced(self, held: list[str], late: bool) -> int:
        """Publish what the announcements point to, oldest first, as one batch; forget
        the done ones. Announcements past their grace are read only when `late` (or once
        expired). A pass costs the same few round trips however many writes it carries:
        the announcements, the documents (one `_id $in` read per collection), the sent
        markers, one producer send, one marker insert, one delete."""
        pending = self._db[PENDING]
        announcements = [a async for a in pending.find({"collection": {"$in": held}})]
        announcements.sort(key=lambda a: a["at"])
        now = self._now()
        old, expired = now - ANNOUNCEMENT_GRACE, now - ANNOUNCEMENT_EXPIRY
        # one past its grace is most likely a no-op's (its change was applied already)
        flying = in_flight()
        chosen = [
            a
            for a in announcements
            if (late or not old > a["at"] >= expired) and a["_id"] not in flying
        ]
        chosen = chosen[:PASS_LIMIT]
        places = list(dict.fromkeys((a["collection"], a["doc"]) for a in chosen))
        outboxes = await self._outboxes(places)
        # a pass that outlived its bucket leaves the collections now held elsewhere
        relayed = {name for name, _ in places if await self._hold_lease(name)}
        places = [where for where in places if where[0] in relayed]
        sent = await self._publish(
            [(where, entry) for where in places for entry in outboxes[where]]
        )
        staged = {where: {e["event_id"] for e in outboxes[where]} for where in places}
        done = [
            a["_id"]
            for a in chosen
            if a["collection"] in relayed
            and (staged[(a["collection"], a["doc"])].issuperset(a["events"]) or a["at"] < expired)
        ]
        if done:
            await pending.delete_many({"_id": {"$in": done}})
        return sent

    async def _outboxes(
        self, places: list[tuple[str, object]]
    ) -> dict[tuple[str, object], list[Document]]:
        """Each document's staged events (none for a document not written yet)."""
        found: dict[tuple[str, object], list[Document]] = {where: [] for where in places}
        wanted: dict[str, list[object]] = {}
        for name, doc_id in places:
            wanted.setdefault(name, []).append(doc_id)
        for name, ids in wanted.items():
            async for document in self._db[name].find({"_id": {"$in": ids}}, {"_outbox": 1}):
                found[(name, document["_id"])] = document.get("_outbox") or []
        return found

    def _now_bucket(self) -> int:
        return int(self._now().timestamp()) // self._bucket

    async def _hold_lease(self, collection: str) -> bool:
        """Whether this replica relays `collection` now. Asked again before each document,
        so a pass whose bucket ended stops when another replica holds the next (publishing
        on would race it: each copy published twice)."""
        bucket = self._now_bucket()
        known = self._leases.get(collection)
        if known is not None and known[0] == bucket:
            return known[1]  # a bucket's lease never changes hands: ask once per bucket
        lease_id = f"{collection}:{bucket}"
        try:
            await self._db[LEASES].insert_one(
                {"_id": lease_id, "owner": self._owner, "at": self._now()}
            )
            await self._db[LEASES].delete_many({"_id": f"{collection}:{bucket - 6}"})
            mine = True
        except DuplicateKeyError:
            held = await self._db[LEASES].find_one({"_id": lease_id})
            mine = held is not None and held.get("owner") == self._owner
        self._leases[collection] = (bucket, mine)
        return mine

    async def _drain_collection(self, name: str) -> int:
        collection = self._db[name]
        since = await self._since(name)
        newest = since
        sent = 0
        cursor = collection.find(
            {"_outbox_at": {"$gte": since - CLOCK_MARGIN}}, {"_outbox_n": 1, "_outbox_at": 1}
        ).sort("_outbox_at", 1)
        async for head in cursor:
            if not await self._hold_lease(name):
                break  # as in `_drain_announced`
            total = int(head.get("_outbox_n") or 0)
            if self._known.get((name, head["_id"]), 0) >= total:
                newest = max(newest, head["_outbox_at"])
                continue
            sent += (await self._publish_document(collection, head["_id"]))[0]
            newest = max(newest, head["_outbox_at"])
        if newest > since:
            self._checkpoint[name] = newest
            await self._db[CHECKPOINTS].update_one(
                {"_id": name}, {"$set": {"at": newest}}, upsert=True
            )
        return sent

    async def _since(self, name: str) -> datetime:
        if name not in self._checkpoint:
            saved = await self._db[CHECKPOINTS].find_one({"_id": name})
            self._checkpoint[name] = saved["at"] if saved else datetime(1970, 1, 1, tzinfo=UTC)
        return self._checkpoint[name]

    async def _publish_document(
        self, collection: AsyncCollection[Document], doc_id: object
    ) -> tuple[int, set[str]]:
        """Publish the document's unsent events in order: (how many now, all its event ids)."""
        where = (collection.name, doc_id)
        outboxes = await self._outboxes([where])
        sent = await self._publish([(where, entry) for entry in outboxes[where]])
        return sent, {e["event_id"] for e in outboxes[where]}

    async def _publish(
        self,
        staged: list[tuple[tuple[str, object], Document]],
        *,
        read_markers: bool = True,
        settle_later: bool = False,
    ) -> int:
        """Publish the staged entries not yet sent, in the order given (each document's in
        its own order), in one producer send, then mark them sent in one insert (or leave
        the markers to `_settle`). `read_markers=False`: the entries are new, so only this
        relay can have marked them (`_known` tells), or, at a lease handover, the next
        holder (one batch published twice, as a pass outliving its bucket may)."""
        counts: dict[tuple[str, object], int] = {}
        for where, _ in staged:
            counts[where] = counts.get(where, 0) + 1
        seen: dict[tuple[str, object], int] = {}
        candidates = []
        for where, entry in staged:  # skip what this relay already knows it sent
            seen[where] = seen.get(where, 0) + 1
            if seen[where] > self._known.get(where, 0):
                candidates.append(entry)
        sent_ids = (
            {
                marker["_id"]
                async for marker in self._db[SENT].find(
                    {"_id": {"$in": [e["event_id"] for e in candidates]}}, {"_id": 1}
                )
            }
            if candidates and read_markers
            else set()
        )
        todo = [e for e in candidates if e["event_id"] not in sent_ids]
        if todo:
            await self._producer.send(
                [
                    OutMessage(
                        topic=e["topic"],
                        key=e["key"].encode(),
                        value=e["value"].encode(),
                        headers=((EVENT_TYPE_HEADER, e["type"]),),
                    )
                    for e in todo
                ]
            )
            if self.metrics is not None:
                for e in todo:
                    self.metrics.produced.labels(e["topic"]).inc()
            now = self._now()
            marks = [{"_id": e["event_id"], "at": now} for e in todo]
            if settle_later:
                self._unsettled_marks += marks
            else:
                await insert_new(self._db[SENT], marks)
        self._known.update(counts)
        return len(todo)

    async def backlog(self) -> int:
        """Events announced within the grace and not yet published (older announcements
        are mostly writes that found their change applied): cheap enough for every scrape."""
        count, old = 0, self._now() - ANNOUNCEMENT_GRACE
        published = set(self._unsettled)
        async for a in self._db[PENDING].find({"collection": {"$in": self._collections}}):
            count += len(a["events"]) if a["at"] >= old and a["_id"] not in published else 0
        return count

    async def unsent(self) -> int:
        """Events staged in the collections and not yet marked sent (for tests and metrics)."""
        count = 0
        for name in self._collections:
            async for document in self._db[name].find({"_outbox_n": {"$gt": 0}}, {"_outbox": 1}):
                ids = [e["event_id"] for e in document.get("_outbox") or []]
                marked = await self._db[SENT].count_documents({"_id": {"$in": ids}})
                count += len(ids) - marked
        return count
