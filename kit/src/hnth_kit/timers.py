"""Durable timers in Mongo: any replica may fire a due timer, and none fires it twice.

A timer is a document with a deterministic id (scheduling it again is a no-op).
Firing is arbitrated by INSERTS, which are atomic on FerretDB and MongoDB alike:
a replica claims a due timer by inserting `timer_claims/<id>` (with a lease, so a
dead replica's claim can be taken over), runs the handler, and records the firing by
inserting `timer_fired/<id>` carrying the handler's events in its outbox: the firing
and its events are one write. Handlers must be idempotent (use the timer id as the
marker for any other document they change), because a taken-over claim runs again.

Timers stay in `timers` for good (a fired or cancelled one keeps a second `schedule` a
no-op); the pollers read `timer_queue`, which holds the pending ones only: FerretDB 1.24
uses no index but `_id`'s, so a poll of `timers` would read every timer ever set. A timer
is queued right after it is stored; a crash in between is repaired at start, when
`ensure_indexes` queues every pending timer that is not queued.
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
from hnth_kit.clock import Clock
from hnth_kit.metrics import Metrics
from hnth_kit.mongo import Document, insert_new
from hnth_kit.outbox import announce, with_outbox

log = logging.getLogger(__name__)

COLLECTION = "timers"
CLAIMS = "timer_claims"
QUEUE = "timer_queue"
FIRED = "timer_fired"
"""Holds each firing and its events: list it among the outbox relay's collections."""
SEED_BATCH = 5000


@dataclass(frozen=True)
class Timer:
    id: str
    kind: str
    due_at: datetime
    tenant: str
    payload: Mapping[str, Any]


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
        self._coll = db[COLLECTION]
        self._queue = db[QUEUE]
        self._clock = clock
        self._topics = topics
        self._lease = lease
        self._batch = batch
        self._owner = uuid.uuid4().hex
        self.fired = 0
        self.metrics = metrics

    async def ensure_indexes(self) -> None:
        await self._coll.create_index([("state", ASCENDING)], name="state")
        await self._queue.create_index([("due_at", ASCENDING)], name="due")
        pending = self._coll.find({"state": "pending"}, {"due_at": 1})
        await insert_new(self._queue, [t async for t in pending])

    async def _enqueue(self, timer_id: str, due_at: datetime) -> None:
        await insert_new(self._queue, [{"_id": timer_id, "due_at": due_at}])

    async def schedule(
        self, timer_id: str, kind: str, due_at: datetime, tenant: str, payload: Mapping[str, Any]
    ) -> bool:
        """Create the timer unless it exists; returns True if created now."""
        try:
            await self._coll.insert_one(
                {
                    "_id": timer_id,
                    "kind": kind,
                    "due_at": due_at,
                    "tenant": tenant,
                    "payload": dict(payload),
                    "state": "pending",
                }
            )
            created = True
        except DuplicateKeyError:
            # set before: queue it only if still pending (a retry after a failed enqueue)
            existing = await self._coll.find_one({"_id": timer_id}, {"state": 1, "due_at": 1})
            if existing is None or existing["state"] != "pending":
                return False
            due_at, created = existing["due_at"], False
        await self._enqueue(timer_id, due_at)
        return created

    async def schedule_many(self, timers: Sequence[Timer]) -> None:
        """`schedule` for several timers in two writes: the timers, then the queue entries
        of those created now or still pending (a retry after a failed enqueue)."""
        if not timers:
            return
        docs = [
            {
                "_id": t.id,
                "kind": t.kind,
                "due_at": t.due_at,
                "tenant": t.tenant,
                "payload": dict(t.payload),
                "state": "pending",
            }
            for t in timers
        ]
        existing = await insert_new(self._coll, docs)
        queue = [{"_id": d["_id"], "due_at": d["due_at"]} for d in docs if d["_id"] not in existing]
        if existing:
            pending = self._coll.find(
                {"_id": {"$in": list(existing)}, "state": "pending"}, {"due_at": 1}
            )
            queue += [t async for t in pending]
        await insert_new(self._queue, queue)

    async def reschedule(self, timer_id: str, due_at: datetime, payload: Mapping[str, Any]) -> None:
        """Move a pending timer (e.g. the meeting moved); a fired one stays fired."""
        moved = await self._coll.update_one(
            {"_id": timer_id, "state": "pending"},
            {"$set": {"due_at": due_at, "payload": dict(payload)}},
        )
        if moved.matched_count:
            await self._queue.update_one(
                {"_id": timer_id}, {"$set": {"due_at": due_at}}, upsert=True
            )

    async def cancel(self, timer_id: str) -> None:
        await self._coll.update_one(
            {"_id": timer_id, "state": "pending"}, {"$set": {"state": "cancelled"}}
        )
        await self._queue.delete_one({"_id": timer_id})

    async def seed_history(self, timers: Sequence[Timer], fired_at: datetime) -> None:
        """Bulk (benches): `timers` as firing them would have left them (fired, not queued,
        their firing recorded without events)."""
        for n in range(0, len(timers), SEED_BATCH):
            batch = timers[n : n + SEED_BATCH]
            await insert_new(
                self._coll,
                [
                    {"_id": t.id, "kind": t.kind, "due_at": t.due_at, "tenant": t.tenant}
                    | {"payload": dict(t.payload), "state": "fired", "fired_at": fired_at}
                    for t in batch
                ],
            )
            await insert_new(
                self._db[FIRED],
                [
                    {"_id": t.id, "kind": t.kind, "fired_at": fired_at, "owner": "seed"}
                    for t in batch
                ],
            )

    async def pending(self) -> int:
        return await self._queue.count_documents({})

    async def fire_due(self, handlers: Mapping[str, TimerHandler]) -> int:
        """Fire every timer due now that no other replica holds; returns how many fired here."""
        now = self._clock.now()
        queued = self._queue.find({"due_at": {"$lte": now}}, {"_id": 1})
        ids = [q["_id"] async for q in queued.sort("due_at", ASCENDING).limit(self._batch)]
        if not ids:
            return 0
        timers = {t["_id"]: t async for t in self._coll.find({"_id": {"$in": ids}})}
        fired = 0
        for timer_id in ids:
            doc = timers.get(timer_id)
            if doc is None or doc["state"] != "pending":  # fired or cancelled meanwhile
                await self._queue.delete_one({"_id": timer_id})
                continue
            if doc["due_at"] > now:  # moved later, and the queue missed it (a crash)
                await self._queue.update_one({"_id": timer_id}, {"$set": {"due_at": doc["due_at"]}})
                continue
            timer = Timer(
                id=doc["_id"],
                kind=doc["kind"],
                due_at=doc["due_at"],
                tenant=doc["tenant"],
                payload=doc.get("payload") or {},
            )
            if await self._claim(timer.id, now) and await self._fire(timer, handlers):
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
        claim = {"_id": timer_id, "owner": self._owner, "until": now + self._lease}
        for _ in range(2):
            try:
                await self._db[CLAIMS].insert_one(claim)
                return True
            except DuplicateKeyError:
                # held by someone: take it over only if their lease ran out
                expired = await self._db[CLAIMS].delete_one(
                    {"_id": timer_id, "until": {"$lt": now}}
                )
                if expired.deleted_count == 0:
                    return False
        return False

    async def _fire(self, timer: Timer, handlers: Mapping[str, TimerHandler]) -> bool:
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
        await announce(self._db[FIRED], timer.id, events)
        try:
            await self._db[FIRED].insert_one(
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
        await self._coll.update_one(
            {"_id": timer.id, "state": "pending"},
            {"$set": {"state": "fired", "fired_at": fired_at}},
        )
        await self._queue.delete_one({"_id": timer.id})
        return won
