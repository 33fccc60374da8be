"""Notification's collections.

- `notices`: one document per (cause, recipient, channel), inserted once (unique `_id`).
- `notice_claims`: a sender's lease on one notice, by INSERT (atomic on FerretDB and
  MongoDB alike), so two replicas never send the same notice at the same time.
- `meetings`: the latest assignment per meeting (written only from the `slots` stream,
  whose key is the meeting, so one consumer writes a meeting at a time).
- `cancellations`, `checks`, `reports_submitted`: facts from other streams, each its own
  document, inserted or replaced by key, so no two streams ever rewrite one document
  (FerretDB updates are read-then-replace).
- `directory`: the latest snapshot per directory key (older `occurred_at` ignored).

A notice's content and pending state are written when it is stored; its retries update
it. How it finished (sent or given up) is a row of its own in `notice_outcomes`, inserted
once: a notice's state is its outcome row's when it has one (`_with_outcomes`).

A formal notice's delivery and its first acknowledgement are facts other services count
(NoticeDelivered, NoticeAcknowledged): each is staged in the outbox of the row that
records it (the outcome row, the acknowledgement row), inserted with it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from bson import decode, encode
from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hnth_contracts import ContactsUpdated, EndpointUpdated, Topics, UnitUpdated
from hnth_kit import batch_reads
from hnth_kit.batch_writes import before_writing, insert_new_or
from hnth_kit.mongo import Document, exists, insert_new
from hnth_kit.outbox import (
    announce,
    announce_many,
    hide_outbox,
    staged_in_new,
    with_outbox,
)
from hnth_kit.timers import due_by, queue_key
from notification.domain import facts, technicians
from notification.domain.attempts import Next, Recorded
from notification.domain.meetings import Meeting, share_from
from notification.domain.notices import Channel, Notice, Status

NOTICES = "notices"
CLAIMS = "notice_claims"
OUTCOMES = "notice_outcomes"
"""How each finished notice ended (`_id` = the notice; the fields `attempt_update` sets),
with the facts it causes in its outbox: inserted, never the notice rewritten. FerretDB
applies an update as read, decode, apply, re-encode and replace of the whole notice:
updating notices as they finished was 19% of its CPU in a flat-out profile of the e2e
bench; an insert of a small row is a fraction of that. The insert is also the fence: a
notice finishes once (a second sender's outcome finds the row taken)."""
QUEUE = "notice_queue"
"""The pending notices only: the sender polls this small collection, never `notices`,
which grows for ever. An entry's `_id` is its due time, then the notice's id (as
`hnth_kit.timers`' queue is keyed), so "due by now, oldest first" is an `_id` range that
MongoDB and our patched FerretDB read from the `_id` index: a filter and sort on a `due`
field made FerretDB 1.24 read and sort the whole queue at every poll, thousands of
entries when the sender lags. A notice has one entry, two for a moment while it moves
(a retry's, inserted before the old one is deleted)."""
ORPHAN_AFTER = timedelta(minutes=1)
"""A queue entry whose notice has not appeared by then lost its writer: dropped."""
CAUSES = "notice_causes"
"""The ids of each cause's notices (`_id` = the cause): `for_cause` reads one document and
then the notices by `_id`, never searching `notices`. A cause's notices are added by one
consumer at a time (its meeting's partition, or its own timer or request), so the
`$addToSet` of a second batch never races another (FerretDB updates are read-then-replace)."""
MEETINGS = "meetings"
CANCELLATIONS = "cancellations"
CHECKS = "checks"
ACKS = "acknowledgements"
REPORTS_SUBMITTED = "reports_submitted"
DIRECTORY = "directory"
SEED_BATCH = 5000
DIRECTORY_TTL = 10.0
"""Seconds a replica trusts its copy of a province's directory."""

_MEETING_FIELDS = [f.name for f in dataclasses.fields(Meeting)]


class NotificationStore:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        topics: Topics | None = None,
        handed_for: timedelta = timedelta(0),
    ) -> None:
        self._db = db
        self._handed_for = handed_for
        """How long a notice just stored is left to the sender it is handed to (the
        storing replica's) before the queue shows it due to every replica's poll: two
        senders do not take it up at once (the second finding it sent: a read and a
        settle for nothing); after a crash, another replica sends it this much later."""
        self._topics = topics or Topics()
        """Where the facts a delivery or an acknowledgement causes are published."""
        self._notices = db[NOTICES]
        self._claims = db[CLAIMS]
        self._outcomes = db[OUTCOMES]
        self._acks = db[ACKS]
        self._queue = db[QUEUE]
        self._causes = db[CAUSES]
        self._meetings = db[MEETINGS]
        self._directory = db[DIRECTORY]
        self._directories: dict[str, tuple[float, dict[str, Document]]] = {}
        """tenant -> (when read, monotonic; its entries by id): see `_directory_entry`."""
        self._directory_reads: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._directory_changes: dict[str, int] = defaultdict(int)
        """tenant -> directory changes saved through this replica (a read that one
        overtook is not kept)."""
        self._entries: dict[str, dict[str, datetime]] = {}
        """notice id -> its queue entries this replica wrote or polled (key -> when
        queued): the sender settles, moves and removes entries by key. Dropped when the
        entries are, or when another sender holds the notice (`claim_many`)."""
        self._just_stored: dict[str, tuple[float, Document]] = {}
        """The notices this replica inserted, by id, with when (monotonic), oldest first:
        see `notices_to_send`."""

    async def setup(self) -> None:
        queue_existed = QUEUE in await self._db.list_collection_names()
        await self._notices.create_index([("meeting_id", ASCENDING)], name="meeting")
        await self._directory.create_index([("tenant", ASCENDING)], name="tenant")
        if not queue_existed:
            # pending notices stored before the queue existed (an upgrade) join it, once:
            # since `notice_outcomes`, a finished notice's own status stays pending
            pending = self._notices.find({"status": Status.PENDING.value}, {"next_attempt_at": 1})
            await insert_new(
                self._queue, [queue_entry(d["_id"], d["next_attempt_at"]) async for d in pending]
            )
        await self._key_old_entries()
        # a notice's entries by its id, for a sender that never saw them (`_entries_of`)
        await self._queue.create_index([("notice", ASCENDING)], name="notice")
        # notices stored before `notice_causes` existed (an upgrade) are listed there once
        if await self._causes.estimated_document_count() == 0:
            await self._index_causes([d async for d in self._notices.find({}, {"cause": 1})])

    async def _key_old_entries(self) -> None:
        """Entries queued before the queue was keyed by due time (`_id` = the notice, no
        `notice` field) move to their keys, once (an upgrade)."""
        for old in await self._queue.find({"notice": {"$exists": False}}).to_list():
            await insert_new(
                self._queue, [queue_entry(old["_id"], old["due"], old.get("queued_at"))]
            )
            await self._queue.delete_one({"_id": old["_id"]})
        if "due" in await self._queue.index_information():
            await self._queue.drop_index("due")  # the old poll's: the `_id` serves now

    # ------------------------------------------------------------ notices

    async def add_notices(self, notices: Sequence[Notice], now: datetime) -> list[str]:
        """Insert the notices; those already there (a redelivery, a replica) stay as they are.
        Returns the ids of those inserted now (due now, as every new notice is); a notice
        given twice (a batch's redelivered event) counts once.

        Queued first: a crash between the two writes leaves a queue entry without a notice
        (dropped by the sender), never a pending notice that no sender looks for.
        A notice already there has its own entry while pending (or none, finished): the
        one this call has just queued for it is deleted at once, not left for a pass.
        """
        docs = [notice_document(n, now) for n in {n.id: n for n in notices}.values()]
        queued = await self._enqueue([self._handed(d, now) for d in docs])
        await self._index_causes(docs)
        taken = await insert_new(self._notices, docs)
        stored = [d for d in docs if d["_id"] not in taken]
        self._keep(stored)
        await self._unqueue([e for e in queued if e["notice"] in taken])
        return [d["_id"] for d in stored]

    async def add_resend(
        self, original: Document, cause: str, by: str, now: datetime
    ) -> tuple[Document, bool]:
        """A fresh delivery of `original` (same content, recipient and channel) under its
        own cause, inserted once by `_id`: `(notice, created)`. A repeated request finds
        the notice the first one inserted (whatever its state by now)."""
        doc = resend_document(original, cause, by, now)
        resend_id = doc["_id"]
        queued = await self._enqueue([self._handed(doc, now)])
        await self._index_causes([doc])
        try:
            await self._notices.insert_one(doc)
            self._keep([doc])
        except DuplicateKeyError:
            found = await self.notice(resend_id)
            if found is None:  # pragma: no cover - a duplicate key means it is there
                raise
            await self._unqueue(queued)  # as in `add_notices`
            return found, False
        return doc, True

    def _handed(self, notice: Document, now: datetime) -> Document:
        """The queue entry of a notice just stored and handed to this replica's sender."""
        return queue_entry(
            notice["_id"], max(notice["next_attempt_at"], now + self._handed_for), now
        )

    async def notice(self, notice_id: str) -> Document | None:
        found = await self._notices.find_one({"_id": notice_id}, hide_outbox())
        return (await self.as_they_stand([found]))[0] if found else None

    async def notice_to_send(self, notice_id: str) -> Document | None:
        """The notice as it stands, without its acknowledgement (one read less per
        attempt: sending never looks at it)."""
        found = await self._notices.find_one({"_id": notice_id}, hide_outbox())
        return (await self._with_outcomes([found]))[0] if found else None

    async def notices_to_send(self, notice_ids: Sequence[str]) -> dict[str, Document]:
        """The notices, by id (those that exist), for a sender that has just claimed them.

        One this replica inserted less than half the handed time ago is taken from its own
        copy, not read back (reading whole notices back was most of what FerretDB decoded):
        it is as inserted, since only its claim holder writes a notice, other replicas'
        polls see it only once the handed time is over, and this replica's sender has it
        once (the copy is given out once). The others are read, in one query."""
        found = self._take_just_stored(notice_ids)
        if unread := [i for i in notice_ids if i not in found]:
            cursor = self._notices.find({"_id": {"$in": unread}}, hide_outbox())
            found |= {doc["_id"]: doc for doc in await self._with_outcomes(await cursor.to_list())}
        return found

    def _keep(self, docs: Sequence[Document]) -> None:
        if self._handed_for > timedelta(0):
            at = time.monotonic()
            self._just_stored |= {d["_id"]: (at, d) for d in docs}

    def _take_just_stored(self, notice_ids: Sequence[str]) -> dict[str, Document]:
        """The copies of those still fresh, as a read would return them (BSON's types,
        datetimes to the millisecond); the stale ones are dropped."""
        fresh_after = time.monotonic() - self._handed_for.total_seconds() / 2
        kept = self._just_stored
        while kept and next(iter(kept.values()))[0] < fresh_after:
            del kept[next(iter(kept))]
        copies = {i: kept.pop(i)[1] for i in notice_ids if i in kept}
        options = self._notices.codec_options
        return {i: decode(encode(doc), codec_options=options) for i, doc in copies.items()}

    async def due(self, now: datetime, limit: int) -> list[str]:
        """The notices whose entries are due by `now`, oldest first, at most `limit`
        entries: an `_id` range (module doc of QUEUE)."""
        cursor = self._queue.find(due_by(now)).sort("_id", ASCENDING).limit(limit)
        polled = await cursor.to_list()
        polled = [e for e in polled if "notice" in e]  # an old replica's: keyed at its start
        for entry in polled:
            self._entries.setdefault(entry["notice"], {})[entry["_id"]] = entry["queued_at"]
        return list(dict.fromkeys(entry["notice"] for entry in polled))

    async def settle_queue(self, notice_id: str, notice: Document | None, now: datetime) -> None:
        """Bring a notice's queue entries in line with it: gone once it is no longer pending
        (or never appeared), one due when it says while pending."""
        if notice is not None and notice["status"] == Status.PENDING.value:
            await self._move_entry(notice_id, notice["next_attempt_at"], now)
            return
        entries = await self._entries_of(notice_id)
        if notice is None and any(at > now - ORPHAN_AFTER for at in entries.values()):
            return  # the notice may still be on its way
        await self._delete_entries(notice_id, list(entries))

    async def _move_entry(self, notice_id: str, due: datetime, now: datetime) -> None:
        """Leave the notice one entry, due at `due`: that one written first, then the
        notice's others deleted (a crash in between leaves two, never none)."""
        entries = await self._entries_of(notice_id)
        wanted = queue_entry(notice_id, due, now)
        if wanted["_id"] not in entries:
            await self._enqueue([wanted])
        await self._delete_entries(notice_id, [k for k in entries if k != wanted["_id"]])

    async def _enqueue(self, entries: Sequence[Document]) -> list[Document]:
        """Queue these entries; returns those written now (one there already, the same
        due time to the millisecond, is another writer's)."""
        taken = await insert_new(self._queue, entries)
        for e in entries:
            self._entries.setdefault(e["notice"], {})[e["_id"]] = e["queued_at"]
        return [e for e in entries if e["_id"] not in taken]

    async def _unqueue(self, entries: Sequence[Document]) -> None:
        """Delete these entries, written just now (their notices were there already)."""
        if entries:
            await self._queue.delete_many({"_id": {"$in": [e["_id"] for e in entries]}})
        for e in entries:
            self._forget_entries(e["notice"], [e["_id"]])

    async def _entries_of(self, notice_id: str) -> dict[str, datetime]:
        """The notice's queue entries this replica knows; read (a search of the small
        queue) only for one it never wrote or polled."""
        known = self._entries.get(notice_id)
        if known is None:
            found = self._queue.find({"notice": notice_id})
            known = {e["_id"]: e["queued_at"] async for e in found}
        return dict(known)

    async def _delete_entries(self, notice_id: str, keys: Sequence[str]) -> None:
        if keys:
            await self._queue.delete_many({"_id": {"$in": list(keys)}})
        self._forget_entries(notice_id, keys)

    def _forget_entries(self, notice_id: str, keys: Sequence[str]) -> None:
        """No longer know these entries of the notice (none left: not the notice either)."""
        left = {k: at for k, at in self._entries.pop(notice_id, {}).items() if k not in keys}
        if left:
            self._entries[notice_id] = left

    async def for_meeting(self, meeting_id: str, tenant: str) -> list[Document]:
        cursor = self._notices.find(
            {"meeting_id": meeting_id, "tenant": tenant}, {"data": 0, **hide_outbox()}
        )
        return await self.as_they_stand([doc async for doc in cursor.sort("created_at", ASCENDING)])

    async def for_cause(self, cause: str) -> list[Document]:
        """The cause's notices: one `_id` read of `notice_causes`, then the notices by `_id`."""
        listed = await self._causes.find_one({"_id": cause})
        ids = list((listed or {}).get("notices") or [])
        cursor = self._notices.find({"_id": {"$in": ids}}, {"data": 0, **hide_outbox()})
        return await self.as_they_stand([d async for d in cursor] if ids else [])

    async def _index_causes(self, docs: Sequence[Document]) -> None:
        """List the notices under their causes (inserted, or added to the cause's list)."""
        by_cause: dict[str, list[str]] = {}
        for d in docs:
            by_cause.setdefault(d["cause"], []).append(d["_id"])
        taken = await insert_new(
            self._causes, [{"_id": cause, "notices": ids} for cause, ids in by_cause.items()]
        )
        for cause in taken:
            await self._causes.update_one(
                {"_id": cause}, {"$addToSet": {"notices": {"$each": by_cause[cause]}}}
            )

    async def seed_history(
        self,
        notices: Sequence[Notice],
        now: datetime,
        checks: Sequence[tuple[str, str, str, str]] = (),
    ) -> None:
        """Bulk (benches): `notices` as sending them would have left them (without events),
        and endpoint checks `(tenant, meeting id, endpoint, outcome)` as `record_check`
        leaves them."""
        docs = [notice_document(n, now) for n in notices]
        sent = attempt_update(Next(Status.SENT, 1, None, None), now, None, None)
        for n in range(0, len(docs), SEED_BATCH):
            await self._index_causes(docs[n : n + SEED_BATCH])
            await insert_new(self._notices, docs[n : n + SEED_BATCH])
            outcomes = [{"_id": d["_id"]} | sent for d in docs[n : n + SEED_BATCH]]
            await insert_new(self._outcomes, outcomes)
        rows = [
            {"_id": f"{t}:{m}:{e}", "tenant": t, "meeting_id": m, "endpoint": e, "outcome": o}
            for t, m, e, o in checks
        ]
        for n in range(0, len(rows), SEED_BATCH):
            await insert_new(self._db[CHECKS], rows[n : n + SEED_BATCH])

    async def record(self, recorded: Sequence[Recorded]) -> None:
        """Attempts' outcomes, each with the events it causes in the same write: the
        finished ones as outcome rows, in one insert after their announcements; those to
        try again on their notices (one bulk write) and their queue entries (moved to their
        next attempt). The sender takes finished ones off the queue with its group's
        (`dequeue`). Within `staging()` the events of the rows inserted now are kept for
        publishing from memory (else the relay's pass finds them); a row already there is
        another sender's outcome of the same notice, and its events are that one's."""
        finished = [r for r in recorded if r.result.status is not Status.PENDING]
        if finished:
            announced = await announce_many(
                self._outcomes, [(r.notice_id, r.events) for r in finished]
            )
            rows = [
                with_outbox(
                    {"_id": r.notice_id} | attempt_update(r.result, r.at, r.address, r.message_id),
                    r.events,
                    self._topics,
                )
                for r in finished
            ]
            taken = await insert_new(self._outcomes, rows)
            for announcement, row in zip(announced, rows, strict=True):
                if row["_id"] not in taken:
                    staged_in_new(self._outcomes, announcement, row)
        again = [r for r in recorded if r.result.status is Status.PENDING]
        if again:
            await self._notices.bulk_write(
                [
                    UpdateOne(  # (one finished before outcome rows existed says so)
                        {"_id": r.notice_id, "status": Status.PENDING.value},
                        {"$set": attempt_update(r.result, r.at, r.address, r.message_id)},
                    )
                    for r in again
                ],
                ordered=False,
            )
            for r in again:  # each entry moves to the notice's next attempt
                await self._move_entry(r.notice_id, r.result.next_attempt_at or r.at, r.at)

    async def dequeue(self, notice_ids: Sequence[str]) -> None:
        """Take finished notices off the queue, in one write (an entry a crash left behind
        is dropped by the next pass: `settle_queue`)."""
        keys = [k for i in notice_ids for k in await self._entries_of(i)]
        for notice_id in notice_ids:
            self._entries.pop(notice_id, None)
        if keys:
            await self._queue.delete_many({"_id": {"$in": keys}})

    async def acknowledge(
        self, notice_id: str, now: datetime, by: str | None = None
    ) -> Document | None:
        """Record the first acknowledgement only; later clicks keep the first time. The
        recipient of a resend has read the same notice: the original counts as acknowledged.

        An acknowledgement is a row of its own, inserted once, never a field set on the
        notice: FerretDB applies an update as read-modify-replace of the whole document,
        so a `$set` racing the sender's record of the attempt could put the notice back
        to pending (seen in CI: a sent resend stayed "pending" once its link was clicked).
        `by`: the signed-in person who acknowledged it (none: the e-mailed link).
        """
        found = await self.notice(notice_id)
        if found is None:
            return None
        original = await self.notice(found["resend_of"]) if found.get("resend_of") else None
        rows = []
        for notice in (n for n in (found, original) if n is not None):
            events = facts.acknowledged(notice, now)
            await announce(self._acks, notice["_id"], events)
            row = {"_id": notice["_id"], "at": now, **({"by": by} if by else {})}
            rows.append(with_outbox(row, events, self._topics))
        await insert_new(self._acks, rows)
        return await self.notice(notice_id)

    async def as_they_stand(self, docs: list[Document]) -> list[Document]:
        """Notices as read from `notices`, as they stand: with the state of their outcome
        rows (`_with_outcomes`) and `acknowledged_at` from their
        acknowledgement rows (a notice acknowledged before those rows existed keeps the
        time stored on it)."""
        if not docs:
            return docs
        await self._with_outcomes(docs)
        cursor = self._acks.find({"_id": {"$in": [d["_id"] for d in docs]}})
        acks = {a["_id"]: a["at"] async for a in cursor}
        for d in docs:
            d["acknowledged_at"] = acks.get(d["_id"], d.get("acknowledged_at"))
        return docs

    async def _with_outcomes(self, docs: list[Document]) -> list[Document]:
        """The notices with the state of their outcome rows, for those finished (one
        finished before the rows existed has its state on itself)."""
        if not docs:
            return docs
        cursor = self._outcomes.find({"_id": {"$in": [d["_id"] for d in docs]}}, hide_outbox())
        outcomes = {o.pop("_id"): o async for o in cursor}
        for d in docs:
            d.update(outcomes.get(d["_id"], {}))
        return docs

    # ------------------------------------------------------------ claims

    async def claim_many(
        self, notice_ids: Sequence[str], owner: str, now: datetime, lease: timedelta
    ) -> list[str]:
        """Take for sending, in one insert, the notices no other live sender holds (a
        crashed sender's claims are taken over once their lease ran out); returns the
        ones taken, in the order given."""
        taken = await insert_new(self._claims, self._claims_for(notice_ids, owner, now, lease))
        if taken:
            await self._claims.delete_many({"_id": {"$in": list(taken)}, "until": {"$lt": now}})
            again = [i for i in notice_ids if i in taken]
            taken = await insert_new(self._claims, self._claims_for(again, owner, now, lease))
        for notice_id in taken:  # another sender's: its entries are that one's to settle
            self._entries.pop(notice_id, None)
        return [i for i in notice_ids if i not in taken]

    @staticmethod
    def _claims_for(
        notice_ids: Sequence[str], owner: str, now: datetime, lease: timedelta
    ) -> list[Document]:
        return [{"_id": i, "owner": owner, "until": now + lease} for i in notice_ids]

    async def release_many(self, notice_ids: Sequence[str], owner: str) -> None:
        await self._claims.delete_many({"_id": {"$in": list(notice_ids)}, "owner": owner})

    # ------------------------------------------------------------ meetings and facts

    async def prefetch_meetings(self, keys: Iterable[tuple[str, str]]) -> None:
        """Read these meetings and their cancellations (tenant, meeting id) for the rest of
        the consumer batch: two queries instead of two a message."""
        ids = [f"{tenant}:{meeting_id}" for tenant, meeting_id in keys]
        await batch_reads.prefetch(self._meetings, ids)
        await batch_reads.prefetch(self._db[CANCELLATIONS], ids)

    async def meeting(self, tenant: str, meeting_id: str) -> Meeting | None:
        doc = await batch_reads.find_by_id(self._meetings, f"{tenant}:{meeting_id}")
        if doc is None:
            return None
        values = {k: doc[k] for k in _MEETING_FIELDS if k in doc}  # older rows: defaults
        values["endpoints"] = tuple(values["endpoints"])
        values["removed_endpoints"] = tuple(values["removed_endpoints"])
        values["cascade"] = tuple(share_from(s) for s in values.get("cascade", ()))
        return Meeting(**values)

    async def save_meeting(self, meeting: Meeting, new: bool = False) -> None:
        """Keep the meeting as of its highest revision (an older one never overwrites).
        `new`: not seen before, so an insert (on FerretDB half the cost of an upsert,
        which reads first), the conditional update when it was there after all."""
        doc = dataclasses.asdict(meeting)
        doc["endpoints"] = list(meeting.endpoints)
        doc["removed_endpoints"] = list(meeting.removed_endpoints)
        doc["cascade"] = [s.data() for s in meeting.cascade]
        doc = {"_id": f"{meeting.tenant}:{meeting.meeting_id}", **doc}
        if new:  # in a consumer batch, inserted with the batch's others at its end
            await insert_new_or(self._meetings, [doc], self._update_meeting)
            return
        await before_writing(self._meetings, doc["_id"])
        await self._update_meeting(doc)

    async def _update_meeting(self, doc: Document) -> None:
        try:
            await self._meetings.update_one(
                {"_id": doc["_id"], "revision": {"$lte": doc["revision"]}},
                {"$set": {k: v for k, v in doc.items() if k != "_id"}},
                upsert=True,
            )
        except DuplicateKeyError:
            pass  # a higher revision is already there

    async def mark_cancelled(self, tenant: str, meeting_id: str, reason: str | None) -> None:
        batch_reads.forget(self._db[CANCELLATIONS], f"{tenant}:{meeting_id}")
        try:
            await self._db[CANCELLATIONS].insert_one(
                {"_id": f"{tenant}:{meeting_id}", "reason": reason}
            )
        except DuplicateKeyError:
            pass

    async def cancelled(self, tenant: str, meeting_id: str) -> bool:
        key = f"{tenant}:{meeting_id}"
        return await batch_reads.find_by_id(self._db[CANCELLATIONS], key) is not None

    async def record_check(self, tenant: str, meeting_id: str, endpoint: str, outcome: str) -> None:
        await self._db[CHECKS].replace_one(
            {"_id": f"{tenant}:{meeting_id}:{endpoint}"},
            {"tenant": tenant, "meeting_id": meeting_id, "endpoint": endpoint, "outcome": outcome},
            upsert=True,
        )

    async def checked_endpoints(
        self, tenant: str, meeting_id: str, endpoints: Sequence[str]
    ) -> list[str]:
        """Which of the meeting's `endpoints` were checked: read by `_id`, not searched."""
        ids = [f"{tenant}:{meeting_id}:{e}" for e in endpoints]
        cursor = self._db[CHECKS].find({"_id": {"$in": ids}})
        return [d["endpoint"] async for d in cursor]

    async def mark_report_submitted(self, tenant: str, report_id: str) -> None:
        try:
            await self._db[REPORTS_SUBMITTED].insert_one({"_id": f"{tenant}:{report_id}"})
        except DuplicateKeyError:
            pass

    async def report_submitted(self, tenant: str, report_id: str) -> bool:
        return await exists(self._db[REPORTS_SUBMITTED], {"_id": f"{tenant}:{report_id}"})

    # ------------------------------------------------------------ directory

    async def save_snapshot(self, event: ContactsUpdated | UnitUpdated | EndpointUpdated) -> None:
        """Keep the newest snapshot per key; an older or repeated one changes nothing."""
        key, fields = technicians.entry_of(event)
        doc: Document = {"tenant": event.tenant, "occurred_at": event.occurred_at, **fields}
        try:
            await self._directory.update_one(
                {"_id": key, "occurred_at": {"$lt": event.occurred_at}}, {"$set": doc}, upsert=True
            )
        except DuplicateKeyError:
            pass  # the same or a newer snapshot is already there
        # after the write: a copy read before it is dropped, and one being read is not kept
        self._directories.pop(event.tenant, None)
        self._directory_changes[event.tenant] += 1

    async def directory_entry(self, doc_id: str) -> Document | None:
        """A directory entry as stored now (no cache: a change is compared with it)."""
        return await self._directory.find_one({"_id": doc_id})

    async def directory_of(self, tenant: str) -> list[Document]:
        """Every directory entry of the province (a few hundred at most)."""
        return await self._directory.find({"tenant": tenant}).to_list(None)

    async def _directory_entry(self, tenant: str, doc_id: str) -> Document | None:
        """A directory entry from this replica's copy of the province's directory, read
        whole (a few hundred entries) and kept for DIRECTORY_TTL seconds: every e-mail
        resolves two or three entries, which one read a province answers, present or not,
        instead of one read each (a 1,000-meeting run made a thousand). A change made
        through this replica drops the copy; one made through another reaches this one
        within the TTL."""
        entries = self._fresh_directory(tenant)
        if entries is None:
            async with self._directory_reads[tenant]:  # one read for the sends waiting
                entries = self._fresh_directory(tenant)
                if entries is None:
                    read_at, changes = time.monotonic(), self._directory_changes[tenant]
                    entries = {e["_id"]: e for e in await self.directory_of(tenant)}
                    if changes == self._directory_changes[tenant]:
                        self._directories[tenant] = (read_at, entries)
        return entries.get(doc_id)

    def _fresh_directory(self, tenant: str) -> dict[str, Document] | None:
        """This replica's copy of the province's directory, unless older than the TTL."""
        cached = self._directories.get(tenant)
        if cached is None or time.monotonic() - cached[0] >= DIRECTORY_TTL:
            return None
        return cached[1]

    async def entry(self, tenant: str, key: str) -> Document | None:
        """A unit's or endpoint's directory entry (`unit:<code>`, `endpoint:<code>`) from
        this replica's copy of the province's directory; None while it is not known."""
        return await self._directory_entry(tenant, f"{tenant}:{key}")

    async def contact(self, tenant: str, recipient: str) -> Document | None:
        """The contact a recipient key resolves to (None until the directory knows it)."""
        prefix, _, code = recipient.partition(":")
        if prefix in ("unit", "technician"):
            kind = "unit" if prefix == "unit" else "endpoint"
            entry = await self._directory_entry(tenant, f"{tenant}:{kind}:{code}")
            return (entry or {}).get("contact")
        contacts = await self._directory_entry(tenant, f"{tenant}:contacts")
        if contacts is None:
            return None
        found: Document | None = contacts.get(recipient)
        if found is None and recipient == "duty":
            found = contacts.get("it_department")  # no duty contact named: the department
        return found


_RESENT_FIELDS = (
    "tenant",
    "meeting_id",
    "kind",
    "recipient",
    "role",
    "channel",
    "rule",
    "data",
    "calendar",
)
"""What a resend copies from the notice it repeats; the delivery state starts afresh."""


def _fresh(now: datetime) -> Document:
    """A notice's delivery state before its first attempt."""
    return {
        "status": Status.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "last_error": None,
        "failure_reason": None,
        "address": None,
        "sent_at": None,
        "acknowledged_at": None,  # read from the acknowledgement rows (`as_they_stand`)
    }


def notice_document(n: Notice, now: datetime) -> Document:
    """A new notice as stored: its content and a fresh delivery state."""
    return {
        "_id": n.id,
        "tenant": n.tenant,
        "meeting_id": n.meeting_id,
        "cause": n.cause,
        "kind": n.kind.value,
        "recipient": n.recipient.key,
        "role": n.recipient.role,
        "channel": n.recipient.channel.value,
        "rule": n.rule.model_dump(),
        "data": dict(n.data),
        "calendar": dataclasses.asdict(n.calendar) if n.calendar else None,
    } | _fresh(now)


def resend_document(original: Document, cause: str, by: str, now: datetime) -> Document:
    """A fresh delivery of `original` (same content, recipient and channel) under `cause`."""
    copied = {k: original.get(k) for k in _RESENT_FIELDS}
    return (
        _fresh(now)
        | copied
        | {
            "_id": f"{cause}|{original['recipient']}|{original['channel']}",
            "cause": cause,
            "resend_of": original["_id"],
            "resent_by": by,
        }
    )


def attempt_update(result: Next, now: datetime, address: str | None, mid: str | None) -> Document:
    """The fields an attempt's outcome sets on its (pending) notice."""
    update: Document = {
        "status": result.status.value,
        "attempts": result.attempts,
        "next_attempt_at": result.next_attempt_at,
        "last_error": result.reason,
        "last_attempt_at": now,
        "address": address,
    }
    if result.status is Status.SENT:
        update |= {"sent_at": now, "message_id": mid}
    if result.status is Status.FAILED:
        update["failure_reason"] = result.reason
    return update


def is_webhook(doc: Document) -> bool:
    return bool(doc.get("channel") == Channel.WEBHOOK.value)


def queue_entry(notice_id: str, due: datetime, now: datetime | None = None) -> Document:
    """A queue entry: keyed by when due, then the notice (module doc of QUEUE)."""
    key = queue_key(due, notice_id)
    return {"_id": key, "notice": notice_id, "due": due, "queued_at": now or due}
