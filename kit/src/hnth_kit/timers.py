"""Durable timers in Mongo: any replica may fire a due timer, and none fires it twice.

A timer has a deterministic id. A pending timer is ONE document in `timer_queue`, written
once (inside a consumer batch, with the batch's other inserts: `insert_new_in_batch`).
What happened to a timer is the other document, `timer_fired/<id>`: its firing with the
handler's events in its outbox (the firing and its events are one write), or a
cancellation marker. Firing is arbitrated by INSERTS, which are atomic on FerretDB and
MongoDB alike: a replica claims a due timer by inserting `timer_claims/<id>` (with a
lease, so a dead replica's claim can be taken over), runs the handler, and inserts the
firing. Handlers must be idempotent (use the timer id as the marker for any other
document they change), because a taken-over claim runs again.

Scheduling a timer again (a redelivered event) is a no-op while it is queued; after it
fired or was cancelled it is queued again, and the poll that finds it due reads its
`timer_fired` entry and drops it: the same one read per due batch the poll makes anyway.
(Scheduled again for another time, which no caller does, it fires once, at the earlier.)

The poll reads only what is due, by `_id`: a queue entry's `_id` is its due time, then
the timer id (`queue_key`), so "due by now" is an `_id` range, which MongoDB answers from
its `_id` index and our FerretDB too (`infra/ferretdb/id-index.patch`, over keys whose
time is written in the letters a-p: it pushes down a range over the bytes ']'..'~').
Before, the poll filtered and sorted on `due_at`, which FerretDB 1.24 did by reading and
decoding every pending timer, every second, in every service: the e2e bench's costliest
command. The queue holds pending timers only, so nothing else grows with history either.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hnth_contracts import Event, Topics
from hnth_kit.batch_writes import discard_in_batch, insert_new_in_batch
from hnth_kit.clock import Clock
from hnth_kit.metrics import Metrics
from hnth_kit.mongo import Document, insert_new, size_of, take_lease
from hnth_kit.outbox import announce, with_outbox

log = logging.getLogger(__name__)

CLAIMS = "timer_claims"
QUEUE = "timer_queue"
FIRED = "timer_fired"
"""Holds each firing and its events (list it among the outbox relay's collections), and
each cancellation."""
OLD_TIMERS = "timers"
"""Where timers lived before they were one document each: moved at start (`migrate`)."""
SEED_BATCH = 5000


@dataclass(frozen=True)
class Timer:
    id: str
    kind: str
    due_at: datetime
    tenant: str
    payload: Mapping[str, Any]

    def document(self) -> Document:
        """The timer's queue entry."""
        return {
            "_id": queue_key(self.due_at, self.id),
            "timer": self.id,
            "kind": self.kind,
            "due_at": self.due_at,
            "tenant": self.tenant,
            "payload": dict(self.payload),
        }

    @classmethod
    def of(cls, doc: Document) -> Timer:
        return cls(
            doc["timer"], doc["kind"], doc["due_at"], doc["tenant"], doc.get("payload") or {}
        )


def _keyed_by_due(doc: Document) -> Document:
    """The queue entry of a timer stored before December 2026, under its own id."""
    return Timer.of({**doc, "timer": doc["_id"]}).document()


_LETTERS = "abcdefghijklmnop"
"""Hex digits written as letters: keys FerretDB reads by its `_id` index (module doc)."""


def _due_code(at: datetime) -> str:
    """`at` in milliseconds since 1970 UTC, twelve letters: sorts as the time does."""
    ms = int(at.timestamp() * 1000)
    return "".join(_LETTERS[(ms >> shift) & 15] for shift in range(44, -1, -4))


def queue_key(due_at: datetime, timer_id: str) -> str:
    return f"{_due_code(due_at)}|{timer_id}"


def due_by(now: datetime) -> Document:
    """The `_id` filter of the queue entries due at or before `now` ('}' sorts after '|')."""
    return {"_id": {"$lt": _due_code(now) + "}"}}


TimerHandler = Callable[[Timer], Awaitable[Sequence[Event]]]


class Timers:
    """Schedule, cancel and fire durable timers in this service's database."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        clock: Clock,
        topics: Topics,
        *,
        lease: timedelta = timedelta(seconds=60),
        batch: int = 100,
        metrics: Metrics | None = None,
    ) -> None:
        self._db = db
        self._queue = db[QUEUE]
        self._fired = db[FIRED]
        self._clock = clock
        self._topics = topics
        self._lease = lease
        self._batch = batch
        self._owner = uuid.uuid4().hex
        self.fired = 0
        self.metrics = metrics

    async def ensure_indexes(self) -> None:
        await self.migrate()
        await self._queue.create_index([("timer", ASCENDING)], name="timer")  # `cancel`

    async def migrate(self) -> None:
        """Timers stored an earlier way become queue entries keyed by due time: a queue
        entry keyed by its timer id (until December 2026), and before that a `timers`
        document each (pending ones also had a queue entry of `_id` and `due_at`), whose
        cancellations become markers. What is moved goes last, so a crash repeats it."""
        for doc in await self._queue.find({"timer": {"$exists": False}}).to_list():
            if "kind" in doc:  # (a bare `_id` and `due_at`: the `timers` layout's, below)
                await insert_new(self._queue, [_keyed_by_due(doc)])
            await self._queue.delete_one({"_id": doc["_id"]})
        if "due" in await self._queue.index_information():
            await self._queue.drop_index("due")  # the old poll's: the `_id` serves now
        if OLD_TIMERS not in await self._db.list_collection_names():
            return
        old = self._db[OLD_TIMERS]
        pending = [_keyed_by_due(d) async for d in old.find({"state": "pending"})]
        await insert_new(self._queue, pending)
        cancelled = [{"_id": d["_id"], "cancelled": True} async for d in old.find(
            {"state": "cancelled"}, {"_id": 1}
        )]  # fmt: skip
        await insert_new(self._fired, cancelled)
        await old.drop()

    async def schedule(
        self, timer_id: str, kind: str, due_at: datetime, tenant: str, payload: Mapping[str, Any]
    ) -> None:
        """Queue the timer unless it is queued (in a consumer batch: with its other inserts)."""
        await self.schedule_many([Timer(timer_id, kind, due_at, tenant, payload)])

    async def schedule_many(self, timers: Sequence[Timer]) -> None:
        """`schedule` for several timers: one write (one per batch in a consumer batch)."""
        await insert_new_in_batch(self._queue, [t.document() for t in timers])

    async def cancel(self, timer_id: str) -> None:
        """The timer never fires: marked cancelled, then out of the queue (and out of the
        batch's inserts, when it was set earlier in the same batch). The queue is read by
        `timer` here, an index on MongoDB; FerretDB reads the pending timers, which only a
        cancellation (a cancelled or moved meeting, an unparked check) pays for."""
        discard_in_batch(self._queue, lambda row: row["timer"] == timer_id)
        await insert_new(self._fired, [{"_id": timer_id, "cancelled": True}])
        await self._queue.delete_many({"timer": timer_id})

    async def seed_history(self, timers: Sequence[Timer], fired_at: datetime) -> None:
        """Bulk (benches): `timers` as firing them would have left them (their firing
        recorded without events, nothing queued)."""
        for n in range(0, len(timers), SEED_BATCH):
            await insert_new(
                self._fired,
                [
                    {"_id": t.id, "kind": t.kind, "fired_at": fired_at, "owner": "seed"}
                    for t in timers[n : n + SEED_BATCH]
                ],
            )

    async def pending(self) -> int:
        """Timers waiting to fire (the queue's size)."""
        return await size_of(self._queue)

    async def fire_due(self, handlers: Mapping[str, TimerHandler]) -> int:
        """Fire every timer due now that no other replica holds; returns how many fired here."""
        now = self._clock.now()
        queued = self._queue.find(due_by(now)).sort("_id", ASCENDING).limit(self._batch)
        entries = [d async for d in queued]
        if not entries:
            return 0
        ids = list({d["timer"] for d in entries})
        done = {d["_id"] async for d in self._fired.find({"_id": {"$in": ids}}, {"_id": 1})}
        due: dict[str, tuple[Timer, str]] = {}
        dropped = []
        for entry in entries:  # the earliest entry of a timer set twice stands for both
            if entry["timer"] in done or entry["timer"] in due:
                dropped.append(entry["_id"])
            else:
                due[entry["timer"]] = (Timer.of(entry), entry["_id"])
        if dropped:  # fired or cancelled, then scheduled again (a redelivery): drop them
            await self._queue.delete_many({"_id": {"$in": dropped}})
        fired = 0
        for timer, key in due.values():
            if await self._claim(timer.id, now) and await self._fire(timer, key, handlers):
                fired += 1
                if self.metrics is not None:
                    self.metrics.timers_fired.labels(timer.kind).inc()
        self.fired += fired
        return fired

    async def run(self, handlers: Mapping[str, TimerHandler], poll_seconds: float = 1.0) -> None:
        await self.ensure_indexes()
        while True:
            try:
                await self.fire_due(handlers)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("timer pass failed; retrying")
            await asyncio.sleep(poll_seconds)

    async def _claim(self, timer_id: str, now: datetime) -> bool:
        return await take_lease(self._db[CLAIMS], timer_id, self._owner, now, self._lease)

    async def _fire(self, timer: Timer, key: str, handlers: Mapping[str, TimerHandler]) -> bool:
        handler = handlers.get(timer.kind)
        if handler is None:
            log.error("no handler for timer kind %s (%s)", timer.kind, timer.id)
            return False
        try:
            events = await handler(timer)
        except Exception:
            log.exception("timer %s failed; it is retried when the claim expires", timer.id)
            return False
        fired_at = self._clock.now()
        await announce(self._fired, timer.id, events)
        try:
            await self._fired.insert_one(
                with_outbox(
                    {
                        "_id": timer.id,
                        "kind": timer.kind,
                        "fired_at": fired_at,
                        "owner": self._owner,
                    },
                    events,
                    self._topics,
                )
            )
            won = True
        except DuplicateKeyError:
            won = False  # fired already (a claim taken over after a slow first firing)
        await self._queue.delete_one({"_id": key})
        return won
