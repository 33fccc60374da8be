"""Scheduling's collections. Every decision-path operation is an insert or a read by `_id`.

Why: on FerretDB 1.24 (SQLite) only lookups by `_id` (equality or `$in`, with the patch
`infra/ferretdb/id-index.patch`) and inserts use an index; any other filter scans the
collection, and updates are read-then-replace, not atomic. So:

- A resource in a bucket (an endpoint, or port number n of a bridge) is a KEY. Its claims
  form a chain `claims/<key>#0`, `#1`, ...; a claim is released by inserting
  `releases/<key>#g`. A claim `#g+1` is only ever inserted after `#g` was seen released,
  so at most one claim per key is live: no double booking, and inserts are atomic on
  both FerretDB and MongoDB. (One exception, `transfer`: a displacing request inserts
  `#g+1` while the displaced meeting's `#g` is still live and about to be released; a
  walk stops at the live `#g`, so `#g+1` only counts once `#g` is released.) Releasing
  names the exact claim, so a late or repeated release can never free somebody else's
  later claim.
- A decision is `decisions/<tenant>|<meeting>|<revision>`, inserted once with its events
  (the kit's outbox): exactly one decision per (meeting, revision). It lists the claims
  it holds and the claims to release, so finishing it again is harmless.
- Revisions of a meeting are consecutive (skipped ones get a `skipped` decision), so the
  meeting's state is found by reading `…|0`, `…|1`, … by `_id`.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hnth_contracts import (
    EndpointGroupUpdated,
    EndpointUpdated,
    Event,
    MeetingChanged,
    MeetingRequested,
    Topics,
    UnitUpdated,
    Window,
)
from hnth_contracts.groups import BUILT_IN, Group, Member
from hnth_kit import batch_reads, batch_writes
from hnth_kit.mongo import Document, exists, insert_new, size_of
from hnth_kit.outbox import announce, announce_many, staged_in_new, with_outbox
from scheduling.domain import UNIT, Holder, bucket_start

CLAIMS = "claims"
RELEASES = "releases"
"""Both are partitioned by the bucket's UTC day (`claims_20261210`): a decision reads only
the days it touches, so years of history never slow it down, even on a server that scans
(FerretDB 1.24 uses no index but `_id`'s); past days' collections are dropped
(`retire_days`)."""
DECISIONS = "decisions"
DIRECTORY = "directory"
MEETINGS = "meetings"
"""Insert-only markers of meetings seen, written by earlier versions (a first request now
reads its history from the consumer batch's one read, `prefetch_histories`); kept only
so that a province's move still carries them."""
PARKED = "parked"
"""Requests waiting for endpoints the directory has not named yet, one insert-only entry
per (meeting, revision) holding the event. Deleted once the request is decided, so it
stays small: it is searched by endpoint, and FerretDB scans on every find."""
DIRECTORY_TTL = 30.0
"""Seconds a replica trusts its copy of a directory entry (other replicas' updates)."""
UNIT_ALL = UNIT + "*"
"""Marker: the province's units have been announced (so host units are checked)."""
CANCELLED = "cancel"
FLOOR_CACHE = 200_000
SEED_BATCH = 5000


def endpoint_key(tenant: str, endpoint: str, bucket: int) -> str:
    return f"{tenant}|ep|{endpoint}|{bucket}"


def port_key(tenant: str, bridge: str, bucket: int, port: int) -> str:
    return f"{tenant}|port|{bridge}|{bucket}|{port}"


def partition_day(collection: str) -> date | None:
    """The UTC day of a claim or release partition (`claims_20261210`), None for others."""
    name, _, day = collection.rpartition("_")
    if name not in (CLAIMS, RELEASES) or len(day) != 8 or not day.isdecimal():
        return None
    return datetime.strptime(day, "%Y%m%d").replace(tzinfo=UTC).date()


def partition(name: str, key: str) -> str:
    """The day collection holding a claim key (or `key#gen`): `claims_20261210`."""
    return _day_partition(name, int(key.split("|")[3].split("#")[0]))


@functools.lru_cache(maxsize=4096)
def _day_partition(name: str, bucket: int) -> str:
    """Remembered: a decision names dozens of keys in a few buckets, and formatting each
    one's day was a twelfth of scheduling's busy time at 50 meetings/s."""
    return f"{name}_{bucket_start(bucket):%Y%m%d}"


GROUP = "group:"
GROUP_ALL = GROUP + "*"


def group_id(tenant: str, code: str) -> str:
    """An endpoint group's entry (`group:` keeps it apart from unit and endpoint codes)."""
    return f"{tenant}|{GROUP}{code}"


def _group(doc: Document) -> Group:
    return Group(
        code=doc["code"],
        name=doc.get("name", doc["code"]),
        name_en=doc.get("name", doc["code"]),
        endpoints=frozenset(doc.get("endpoints", ())),
        units=frozenset(doc.get("units", ())),
        kinds=frozenset(doc.get("kinds", ())),
        active=bool(doc.get("active", True)),
    )


def unit_id(tenant: str, code: str) -> str:
    """A unit's directory entry: `unit:` keeps it apart from endpoint codes, and is how a
    parked request names the unit it waits for."""
    return f"{tenant}|{UNIT}{code}"


Value = TypeVar("Value")


def _remember(cache: OrderedDict[str, Value], key: str, value: Value) -> None:
    """Keep `key -> value` in a bounded most-recently-used cache."""
    cache[key] = value
    cache.move_to_end(key)
    if len(cache) > FLOOR_CACHE:
        cache.popitem(last=False)


Then = Callable[[Document | None], Awaitable[None]]
"""What follows a decision once it is in (`record_then`), given the decision that stands;
None when it was not recorded because a claim it stood on went to another meeting first
(its attempt's `lost`): then the request is decided again."""


def decision_id(tenant: str, meeting_id: str, revision: int | str) -> str:
    return f"{tenant}|{meeting_id}|{revision}"


@dataclass(frozen=True)
class KeyState:
    """A key's chain as read: free at generation `gen`, or held by `holder` at `gen`."""

    key: str
    gen: int
    holder: Document | None

    @property
    def claim_id(self) -> str:
        return f"{self.key}#{self.gen}"


@dataclass
class Attempt:
    """One (meeting, revision)'s reservations: what it holds and what it inserted itself."""

    tenant: str
    meeting_id: str
    revision: int
    meeting: Window
    reserved: Window
    held: list[str] = field(default_factory=list)
    inserted: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    """Claims taken blind in a consumer batch whose insert at the part's end found another
    meeting's (or another revision's) there: the attempt holds them not, and its decision
    must not be recorded (`SchedulingStore.record_then`)."""

    def adopt(self, state: KeyState) -> None:
        """A live claim of this meeting: the current slot's (kept or released by the
        decision), or this very revision's from a crashed try or a twin (released with
        this attempt's own claims unless the decision that stands holds it)."""
        assert state.holder is not None
        self.take(state.claim_id, inserted=state.holder["revision"] == self.revision)

    def take(self, claim_id: str, *, inserted: bool) -> None:
        if claim_id not in self.held:
            self.held.append(claim_id)
        if inserted and claim_id not in self.inserted:
            self.inserted.append(claim_id)


@dataclass
class History:
    """A meeting's decisions so far, read by `_id`."""

    decisions: list[Document]
    cancelled: Document | None

    @property
    def latest_revision(self) -> int:
        return len(self.decisions) - 1

    def decision(self, revision: int) -> Document | None:
        return self.decisions[revision] if 0 <= revision < len(self.decisions) else None

    @property
    def current(self) -> Document | None:
        """The assigned (or held) decision whose slot the meeting holds now, if any."""
        if self.cancelled is not None:
            return None
        for doc in reversed(self.decisions):
            if doc["outcome"] in ("assigned", "held"):
                return doc
        return None


def claim_document(attempt: Attempt, key: str, gen: int, extra: Document) -> Document:
    """Claim number `gen` of `key` for the attempt's meeting (what the bench imports too)."""
    return {
        "_id": f"{key}#{gen}",
        "tenant": attempt.tenant,
        "meeting_id": attempt.meeting_id,
        "revision": attempt.revision,
        "start": attempt.meeting.start,
        "end": attempt.meeting.end,
        **extra,
    }


def claim_fields(key: str) -> Document:
    """What a claim of `key` records about its resource (as the decision path words it)."""
    _tenant, kind, resource, bucket, *port = key.split("|")
    extra: Document = {"kind": "endpoint" if kind == "ep" else kind, "resource": resource}
    return extra | {"bucket": int(bucket)} | ({"port": int(port[0])} if port else {})


def successor(claim_id: str) -> tuple[str, int]:
    """The key of claim `key#g` and the generation following it (`g + 1`)."""
    key, _, gen = claim_id.rpartition("#")
    return key, int(gen) + 1


def claim_of(decision: Document, claim_id: str) -> Document:
    """The claim `claim_id` (`key#gen`) as the decision path inserts it for `decision`."""
    key, _, gen = claim_id.rpartition("#")
    extra = claim_fields(key)
    attempt = Attempt(
        key.split("|")[0],
        decision["meeting_id"],
        decision["revision"],
        Window(start=decision["start"], end=decision["end"]),
        Window(start=decision["start"], end=decision["end"]),
    )
    return claim_document(attempt, key, int(gen), extra)


def holder_of(doc: Document) -> Holder:
    return Holder(
        meeting_id=doc["meeting_id"],
        revision=doc["revision"],
        meeting=Window(start=doc["start"], end=doc["end"]),
    )


class SchedulingStore:
    def __init__(self, db: AsyncDatabase[Document], topics: Topics) -> None:
        self._db = db
        self._seen: dict[str, tuple[float, Any]] = {}
        self._marked: set[str] = set()
        """Markers this process has written (insert-only, never removed): not written again
        for every entry of a directory announced at start (a province has hundreds)."""
        self._decisions = db[DECISIONS]
        self._directory = db[DIRECTORY]
        self._parked = db[PARKED]
        self._topics = topics
        self._floor: OrderedDict[str, int] = OrderedDict()
        """key -> first generation not known to be released. Releases are forever, so
        this cache is never wrong, only incomplete; it keeps churned chains cheap."""
        self._taken: OrderedDict[str, tuple[int, str]] = OrderedDict()
        """key -> (generation, meeting) of a live claim this process inserted or read: with
        `_floor`, the replica's picture of the calendar. It is a hint, never the judge: a key it
        does not show taken is claimed blind (the insert decides, and fails on the
        duplicate `_id` where another replica got there first: a stale picture loses
        cleanly and that key is read), and a key it shows taken is read before anyone is
        refused (another replica may have released it)."""

    # ------------------------------------------------------------ claims

    def _released(self, key: str, gen: int) -> None:
        if self._floor.get(key, 0) <= gen:
            _remember(self._floor, key, gen + 1)
        if self._taken.get(key, (gen + 1, ""))[0] <= gen:
            del self._taken[key]

    def unclaimed(self, keys: Iterable[str]) -> dict[str, int] | None:
        """The generation to claim each key at blind, from memory with no read; None when
        this replica has seen one of them taken (then read them: `states`)."""
        gens: dict[str, int] = {}
        for key in keys:
            if self.seen_taken(key):
                return None
            gens[key] = self._floor.get(key, 0)
        return gens

    def seen_taken(self, key: str, besides: str | None = None) -> bool:
        """Whether this replica has seen `key` held (by a meeting other than `besides`): a
        hint, from memory with no read."""
        gen, meeting = self._taken.get(key, (-1, ""))
        return gen >= self._floor.get(key, 0) and meeting != besides

    async def states(
        self, keys: Iterable[str], since: Mapping[str, int] | None = None
    ) -> dict[str, KeyState]:
        """Walk many keys' chains in step (from generation `since[key]`, if given): each
        step is one `_id $in` read of the claims and one of their releases per day
        partition, not a read per key (a decision looks at dozens of keys: endpoints and
        bridge ports in every bucket)."""
        await self.settle_claims()  # what the batch part claimed blind is read too
        wanted = list(dict.fromkeys(keys))
        found: dict[str, KeyState] = {}
        since = since or {}
        gens = {key: max(since.get(key, 0), self._floor.get(key, 0)) for key in wanted}
        while gens:
            claims = await self._read_partitioned(CLAIMS, [f"{k}#{g}" for k, g in gens.items()])
            released = await self._read_partitioned(RELEASES, list(claims))
            following: dict[str, int] = {}
            for key, gen in gens.items():
                claim = claims.get(f"{key}#{gen}")
                if claim is None:
                    found[key] = KeyState(key, gen, None)
                elif f"{key}#{gen}" not in released:
                    found[key] = KeyState(key, gen, claim)
                    _remember(self._taken, key, (gen, claim["meeting_id"]))
                else:
                    self._released(key, gen)
                    following[key] = gen + 1
            gens = following
        return {key: found[key] for key in wanted}

    async def claim(
        self, attempt: Attempt, wanted: Mapping[str, int], fields: Mapping[str, Document]
    ) -> dict[str, KeyState]:
        """Insert a claim for each key at its free generation; a key taken meanwhile is
        read again. Returns the keys held by OTHER meetings; the rest are the attempt's."""
        others: dict[str, KeyState] = {}
        # a generation known released is not worth an insert that must fail
        pending = {key: max(gen, self._floor.get(key, 0)) for key, gen in wanted.items()}
        part = self._held_part()
        if part is not None and not any(self.seen_taken(key) for key in pending):
            # as far as this replica knows they are free: claimed with the part's other
            # claims and decisions at its end, one insert per day, no round trip now
            for key, gen in pending.items():
                doc = claim_document(attempt, key, gen, fields[key])
                part.claims.append((doc, attempt))
                attempt.take(doc["_id"], inserted=True)
                _remember(self._taken, key, (gen, attempt.meeting_id))
            return others
        await self.settle_claims()
        while pending:
            docs = [claim_document(attempt, key, gen, fields[key]) for key, gen in pending.items()]
            taken = await self._insert_partitioned(CLAIMS, docs)
            retry: dict[str, int] = {}
            lost = [key for key, gen in pending.items() if f"{key}#{gen}" in taken]
            # the keys lost are read again together, not a chain walk each
            states = await self.states(lost, pending)
            for key, gen in pending.items():
                if key not in states:
                    attempt.take(f"{key}#{gen}", inserted=True)
                    _remember(self._taken, key, (gen, attempt.meeting_id))
            for key, state in states.items():
                if state.holder is None:
                    retry[key] = state.gen
                elif state.holder["meeting_id"] == attempt.meeting_id:
                    attempt.adopt(state)  # a twin replica's or an earlier try's insert
                else:
                    others[key] = state
            pending = retry
        return others

    async def transfer(self, attempt: Attempt, claim_ids: Iterable[str]) -> None:
        """Take over these claims (`key#g`, held by a meeting being displaced) for the
        attempt BEFORE they are released: insert `key#g+1` now. A chain walk stops at the
        live `#g`, so the new claim is invisible until `#g` is released, then it is the
        attempt's: nobody can claim the freed key in between (a competitor inserting
        `#g+1` after seeing `#g` released finds it taken). The inserts are kept in
        `attempt.inserted` (released with the attempt's unless its decision holds them);
        `#g+1` already there is a twin's (adopted when reserving) or somebody's who
        claimed it after `#g` was released: left alone."""
        await self.settle_claims()
        docs = []
        for claim_id in dict.fromkeys(claim_ids):
            key, gen = successor(claim_id)
            docs.append(claim_document(attempt, key, gen, claim_fields(key)))
        taken = await self._insert_partitioned(CLAIMS, docs) if docs else set()
        attempt.inserted.extend(d["_id"] for d in docs if d["_id"] not in taken)
        for doc in docs:
            key, _, gen = doc["_id"].rpartition("#")
            _remember(self._taken, key, (int(gen), attempt.meeting_id))

    async def release(self, claim_ids: Iterable[str], reason: str, at: datetime) -> None:
        """Release exactly these claims (already released ones stay as they are)."""
        docs = [{"_id": c, "reason": reason, "at": at} for c in dict.fromkeys(claim_ids)]
        if docs:
            await self.settle_claims()  # a claim released must be in first
            await self._insert_partitioned(RELEASES, docs)
        for doc in docs:  # only once they are durable
            key, _, gen = doc["_id"].rpartition("#")
            self._released(key, int(gen))

    async def is_released(self, claim_id: str) -> bool:
        await self.settle_claims()
        released = self._db[partition(RELEASES, claim_id)]
        return await exists(released, {"_id": claim_id})

    async def _insert_partitioned(self, name: str, docs: Sequence[Document]) -> set[str]:
        days: dict[str, list[Document]] = {}
        for doc in docs:
            days.setdefault(partition(name, doc["_id"]), []).append(doc)
        taken = await asyncio.gather(
            *(insert_new(self._db[day], batch) for day, batch in days.items())
        )
        return set().union(*taken)

    async def _read_partitioned(self, name: str, ids: Sequence[str]) -> dict[str, Document]:
        """The documents with these ids, by id: one read per day partition, concurrently."""
        days: dict[str, list[str]] = {}
        for doc_id in ids:
            days.setdefault(partition(name, doc_id), []).append(doc_id)
        # the whole answer in the first batch: no `getMore` round trip past 101 documents,
        # nor (FerretDB) after a batch that came back exactly full
        batches = await asyncio.gather(
            *(
                self._db[day].find({"_id": {"$in": batch}}, batch_size=len(batch) + 1).to_list()
                for day, batch in days.items()
            )
        )
        return {doc["_id"]: doc for batch in batches for doc in batch}

    async def reservations(
        self, tenant: str, rooms: Sequence[str], spans: range, *, ports: bool = True
    ) -> list[Document]:
        """The live claims in the buckets `spans`: these endpoints' and (`ports`) every
        bridge port's. One read per day partition (concurrently) and one of their releases:
        the free-window search reads a range once, not key by key (a read, never a claim)."""
        if not spans:
            return []
        await self.settle_claims()
        first_day = bucket_start(spans[0]).date()
        last_day = bucket_start(spans[-1]).date()
        days = [
            f"{first_day + timedelta(days=n):%Y%m%d}"
            for n in range((last_day - first_day).days + 1)
        ]
        wanted = {
            "tenant": tenant,
            "bucket": {"$gte": spans[0], "$lte": spans[-1]},
            "$or": [
                {"kind": "endpoint", "resource": {"$in": list(rooms)}},
                *([{"kind": "port"}] if ports else []),
            ],
        }
        batches = await asyncio.gather(
            *(self._db[f"{CLAIMS}_{day}"].find(wanted).to_list() for day in days)
        )
        claims = [doc for batch in batches for doc in batch]
        released = await self._read_partitioned(RELEASES, [doc["_id"] for doc in claims])
        return [doc for doc in claims if doc["_id"] not in released]

    # ------------------------------------------------------------ decisions

    async def prefetch_histories(self, keys: Iterable[tuple[str, str]]) -> None:
        """Read the first decision and the cancellation of these meetings (tenant, meeting
        id) for the rest of the consumer batch, in one query: a meeting seen for the first
        time, the usual request, then needs no read of its own. Every write of a decision
        in the batch forgets what was read of it (`_forget`)."""
        ids = [decision_id(t, m, r) for t, m in keys for r in (0, CANCELLED)]
        await batch_reads.prefetch(self._decisions, ids)

    async def history(self, tenant: str, meeting_id: str) -> History:
        decisions: list[Document] = []
        while True:
            doc = await batch_reads.find_by_id(
                self._decisions, decision_id(tenant, meeting_id, len(decisions))
            )
            if doc is None:
                break
            decisions.append(doc)
        cancelled = await batch_reads.find_by_id(
            self._decisions, decision_id(tenant, meeting_id, CANCELLED)
        )
        return History(decisions, cancelled)

    async def skip(self, tenant: str, meeting_id: str, revisions: Iterable[int]) -> None:
        """Mark revisions that never arrived as skipped, keeping the revision chain whole."""
        docs = [
            {
                "_id": decision_id(tenant, meeting_id, r),
                "tenant": tenant,
                "meeting_id": meeting_id,
                "revision": r,
                "outcome": "skipped",
                "held": [],
                "release": [],
            }
            for r in revisions
        ]
        if docs:
            await batch_writes.settle(self._decisions)
            self._forget(*(doc["_id"] for doc in docs))
            await insert_new(self._decisions, docs)

    async def record(
        self, document: Document, marker: str, events: Sequence[Event]
    ) -> tuple[Document, bool]:
        """Insert the decision with its events in one write, unless one exists for the
        same (meeting, revision): returns the decision that stands and whether it is ours."""
        await batch_writes.settle(self._decisions)  # decisions land in the order they were taken
        staged = self._staged(document, marker, events)
        self._forget(document["_id"])
        announcement = await announce(self._decisions, document["_id"], events)
        try:
            await self._decisions.insert_one(staged)
            staged_in_new(self._decisions, announcement, staged)
            return staged, True
        except DuplicateKeyError:
            existing = await self._decisions.find_one({"_id": document["_id"]})
            assert existing is not None, "decisions are never deleted"
            return existing, marker in existing.get("_applied", [])

    async def record_then(
        self,
        document: Document,
        marker: str,
        events: Sequence[Event],
        then: Then,
        attempt: Attempt | None = None,
    ) -> Document:
        """`record`, then `then(the decision that stands)`. In a consumer batch both wait
        for the end of its part, with the part's other decisions: one announcement and
        one insert for them all (a decision's round trips were most of scheduling's time
        at 50/s), and the batch's reads answer the decision from memory meanwhile.
        Returns the decision as recorded (a twin replica's may stand instead: `then` gets
        the one that does)."""
        part = self._held_part()
        if part is None:  # nothing held, nothing lost: claims are written at once here
            recorded, _ = await self.record(document, marker, events)
            await then(recorded)
            return recorded
        staged = self._staged(document, marker, events)
        part.decisions.append(_HeldDecision(staged, events, then, attempt))
        batch_reads.remember(self._decisions, [staged])
        return staged

    def _held_part(self) -> _HeldPart | None:
        """What the consumer batch part holds of this store (None outside a batch)."""
        return batch_writes.held_in_batch(
            f"scheduling.part.{id(self)}", lambda: _HeldPart(self), self._decisions
        )

    async def settle_claims(self) -> None:
        """Make what the batch part holds (its blind claims, then its decisions) before
        claims are read or written otherwise, or a decision is recorded at once: the
        chains read must show them, and an attempt whose claim was lost learns it here."""
        await batch_writes.settle(self._decisions)

    async def _insert_held_claims(self, claims: Sequence[tuple[Document, Attempt]]) -> None:
        """Insert the part's blind claims, one insert per day. One found taken is its
        meeting's own when this very revision holds it (a twin replica's, or an earlier
        try's); any other holder means another meeting got there first: the attempt lost
        it (`Attempt.lost`) and this replica's picture shows the key taken."""
        if not claims:
            return
        taken = await self._insert_partitioned(CLAIMS, [doc for doc, _ in claims])
        if not taken:
            return
        holders = await self._read_partitioned(CLAIMS, list(taken))
        for doc, attempt in claims:
            holder = holders.get(doc["_id"])
            ours = holder is not None and (holder["meeting_id"], holder["revision"]) == (
                attempt.meeting_id,
                attempt.revision,
            )
            if doc["_id"] not in taken or ours or doc["_id"] in attempt.lost:
                continue  # ours: as `Attempt.adopt` takes this very revision's claim
            attempt.lost.append(doc["_id"])
            attempt.held.remove(doc["_id"])
            attempt.inserted.remove(doc["_id"])
            key, _, gen = doc["_id"].rpartition("#")
            if holder is not None:
                _remember(self._taken, key, (int(gen), holder["meeting_id"]))
            else:
                self._taken.pop(key, None)

    async def _record_held(self, part: _HeldPart) -> None:
        """Insert a batch part's blind claims, then its held decisions (`record_then`)
        but those whose attempt lost a claim, and run what follows each."""
        await self._insert_held_claims(part.claims)
        held = [each for each in part.decisions if not (each.attempt and each.attempt.lost)]
        for each in part.decisions:
            if each not in held:
                self._forget(each.document["_id"])  # not recorded: decided again
        docs = [each.document for each in held]
        announcements = await announce_many(
            self._decisions, [(each.document["_id"], each.events) for each in held]
        )
        taken = await insert_new(self._decisions, docs) if docs else set()
        standing = (
            await self._decisions.find({"_id": {"$in": list(taken)}}).to_list() if taken else []
        )
        twins = {doc["_id"]: doc for doc in standing}  # twin replicas' (or redeliveries')
        batch_reads.remember(self._decisions, standing)
        for doc, announcement in zip(docs, announcements, strict=True):
            if doc["_id"] not in taken:
                staged_in_new(self._decisions, announcement, doc)
        # what follows them (their timers) is written together too: this runs as the batch
        # is flushed, where a write is otherwise made at once, one round trip a decision
        async with batch_writes.batch_writes():
            for each in part.decisions:
                if each in held:
                    await each.then(twins.get(each.document["_id"], each.document))
                else:
                    await each.then(None)

    def _staged(self, document: Document, marker: str, events: Sequence[Event]) -> Document:
        """The decision as inserted: with its events and the event it answers."""
        return {**with_outbox(document, events, self._topics), "_applied": [marker]}

    async def settle(
        self, decision_id: str, fields: Document, events: Sequence[Event], kind: str = "settled"
    ) -> Document:
        """Decide a held decision once. The settlement (its fields and events) is an insert
        keyed by the decision, atomic on FerretDB and MongoDB alike: one of several
        replicas, a redelivered command or the deadline racing an approval wins; then
        the winning fields are applied to the decision (the same whoever repeats it, so a
        crash in between is finished by the next attempt). Returns the decision settled.
        `kind`: `settled` for a hold's outcome, `preempted` for an assigned slot displaced
        (one displacement per revision, whichever replica or redelivery makes it)."""
        await batch_writes.settle(self._decisions)  # the decision may be one the batch holds
        settlement_id = f"{decision_id}|{kind}"
        staged = with_outbox({"_id": settlement_id, "fields": fields}, events, self._topics)
        self._forget(settlement_id, decision_id)
        announcement = await announce(self._decisions, settlement_id, events)
        try:
            await self._decisions.insert_one(staged)
            staged_in_new(self._decisions, announcement, staged)
        except DuplicateKeyError:
            found = await self._decisions.find_one({"_id": settlement_id})
            assert found is not None, "settlements are never deleted"
            staged = found
        await self._decisions.update_one({"_id": decision_id}, {"$set": staged["fields"]})
        settled = await self._decisions.find_one({"_id": decision_id})
        assert settled is not None, "decisions are never deleted"
        return settled

    def _forget(self, *decision_ids: str) -> None:
        """The batch's reads of these decisions are out of date: written now."""
        for doc_id in decision_ids:
            batch_reads.forget(self._decisions, doc_id)

    async def decision(self, tenant: str, meeting_id: str, revision: int | str) -> Document | None:
        await batch_writes.settle(self._decisions)
        return await self._decisions.find_one({"_id": decision_id(tenant, meeting_id, revision)})

    # ------------------------------------------------------------ directory

    async def record_endpoint(self, event: EndpointUpdated) -> bool:
        """Keep the newest snapshot per endpoint; returns False for an older one."""
        fields = {"code": event.code, "unit": event.unit, "active": event.active}
        return await self._record(event, f"{event.tenant}|{event.code}", "*", fields)

    async def record_unit(self, event: UnitUpdated) -> bool:
        """Keep the newest snapshot per unit; returns False for an older one."""
        fields = {"code": event.code, "active": event.active, "kind": event.kind.value}
        return await self._record(event, unit_id(event.tenant, event.code), UNIT_ALL, fields)

    async def record_group(self, event: EndpointGroupUpdated) -> bool:
        """Keep the newest snapshot per endpoint group; returns False for an older one."""
        fields = event.model_dump(mode="json", include={"code", "endpoints", "units", "kinds"})
        fields |= {"active": event.active, "name": event.name}
        return await self._record(event, group_id(event.tenant, event.code), GROUP_ALL, fields)

    async def expansion_view(
        self, tenant: str, codes: Iterable[str]
    ) -> tuple[dict[str, Group | None], list[Member], dict[str, str]]:
        """What expanding these groups needs: each group (None = unknown), and the
        province's endpoints and unit kinds (one scan of the province's directory)."""
        groups: dict[str, Group | None] = {}
        for code in codes:
            doc = BUILT_IN.get(code) or await self._cached(group_id(tenant, code))
            groups[code] = doc if doc is None or isinstance(doc, Group) else _group(doc)
        endpoints: list[Member] = []
        kinds: dict[str, str] = {}
        async for doc in self._directory.find({"tenant": tenant}):
            if str(doc["_id"]).startswith(f"{tenant}|{UNIT}"):
                kinds[doc["code"]] = doc.get("kind", "other")
            elif "unit" in doc:
                endpoints.append(Member(doc["code"], doc["unit"], bool(doc["active"])))
        return groups, endpoints, kinds

    async def _record(self, event: Event, doc_id: str, marker: str, fields: Document) -> bool:
        """Store a directory snapshot unless a newer one (by `occurred_at`) is stored: an
        older snapshot delivered late (a replay, another publisher) never wins. The
        replace is conditional on the stored one being older; a snapshot of the same
        time is a redelivery: stored again (the same), so what follows it runs again."""
        snapshot = {"_id": doc_id, "tenant": event.tenant, **fields}
        snapshot["occurred_at"] = event.occurred_at
        if not await insert_new(self._directory, [snapshot]):
            stored = True
        else:  # rare (directory edits): the only update on this service's collections
            replaced = await self._directory.replace_one(
                {"_id": doc_id, "occurred_at": {"$lte": event.occurred_at}}, snapshot
            )
            stored = replaced.matched_count == 1
        if not stored:
            self._seen.pop(doc_id, None)
            return False
        self._seen[doc_id] = (time.monotonic(), snapshot)
        marker_id = f"{event.tenant}|{marker}"
        if marker_id not in self._marked:
            # the province has a directory of this kind: from now on it is checked
            await insert_new(self._directory, [{"_id": marker_id}])
            self._marked.add(marker_id)
            self._seen.pop(marker_id, None)
        return True

    def forget(self, tenant: str, codes: Iterable[str]) -> None:
        """Drop this replica's copy of these entries (endpoint codes, `unit:<code>` for
        units): the next read asks the database."""
        for code in codes:
            self._seen.pop(f"{tenant}|{code}", None)
        self._seen.pop(f"{tenant}|*", None)
        self._seen.pop(f"{tenant}|{UNIT_ALL}", None)

    async def endpoint(self, tenant: str, code: str) -> Document | None:
        return await self._cached(f"{tenant}|{code}")

    async def _cached(self, doc_id: str) -> Document | None:
        """A directory document, from this replica's copy while it is fresh."""
        now = time.monotonic()
        hit = self._seen.get(doc_id)
        if hit is not None and now - hit[0] < DIRECTORY_TTL:
            cached: Document | None = hit[1]
            return cached
        doc = await self._directory.find_one({"_id": doc_id})
        self._seen[doc_id] = (now, doc)
        return doc

    async def directory_view(
        self, tenant: str, codes: Iterable[str]
    ) -> dict[str, bool | None] | None:
        """Active flags of `codes` (None = unknown), or None when the province has no
        directory here yet (then nothing is checked against it)."""
        if await self._cached(f"{tenant}|*") is None:
            return None
        view: dict[str, bool | None] = {}
        for code in codes:
            doc = await self.endpoint(tenant, code)
            view[code] = None if doc is None else bool(doc["active"])
        return view

    async def units_view(self, tenant: str, code: str) -> dict[str, bool | None] | None:
        """The unit's active flag (None = unknown), or None when no unit of the province
        has been announced here yet (then units are not checked)."""
        if await self._cached(f"{tenant}|{UNIT_ALL}") is None:
            return None
        doc = await self._cached(unit_id(tenant, code))
        return {code: None if doc is None else bool(doc["active"])}

    # ------------------------------------------------------------ parked requests

    async def park(
        self, event: MeetingRequested | MeetingChanged, unknown: Sequence[str], at: datetime
    ) -> Document:
        """Park the request (once): returns the entry that stands, the first one's time kept."""
        revision = event.revision if isinstance(event, MeetingChanged) else 0
        entry: Document = {
            "_id": decision_id(event.tenant, event.meeting_id, revision),
            "tenant": event.tenant,
            "meeting_id": event.meeting_id,
            "revision": revision,
            "unknown": list(unknown),
            "parked_at": at,
            "event": event.model_dump_json(),
        }
        try:
            await self._parked.insert_one(entry)
            return entry
        except DuplicateKeyError:
            existing = await self._parked.find_one({"_id": entry["_id"]})
            return existing if existing is not None else entry  # decided meanwhile

    async def parked(self, parked_id: str) -> Document | None:
        return await self._parked.find_one({"_id": parked_id})

    async def parked_for(self, tenant: str, code: str) -> list[Document]:
        """The parked requests naming this endpoint among those unknown when parked."""
        return await self._parked.find({"tenant": tenant, "unknown": code}).to_list()

    async def unpark(self, parked_id: str) -> None:
        await self._parked.delete_one({"_id": parked_id})

    async def unpark_meeting(self, tenant: str, meeting_id: str) -> None:
        await self._parked.delete_many({"tenant": tenant, "meeting_id": meeting_id})

    async def parked_count(self) -> int:
        return await size_of(self._parked)

    # ------------------------------------------------------------ seeding (benches, tests)

    async def seed_directory(
        self, tenant: str, endpoints: Mapping[str, str], units: Iterable[str], at: datetime
    ) -> None:
        """Bulk: the province's active endpoints (code -> unit) and units, as recording
        their `EndpointUpdated` / `UnitUpdated` at `at` would leave them (no timers)."""
        docs: list[Document] = [{"_id": f"{tenant}|*"}, {"_id": f"{tenant}|{UNIT_ALL}"}]
        docs += [
            {"_id": unit_id(tenant, code), "tenant": tenant, "code": code, "active": True}
            | {"occurred_at": at}
            for code in units
        ]
        docs += [
            {"_id": f"{tenant}|{code}", "tenant": tenant, "code": code, "unit": unit}
            | {"active": True, "occurred_at": at}
            for code, unit in endpoints.items()
        ]
        for n in range(0, len(docs), SEED_BATCH):
            await insert_new(self._directory, docs[n : n + SEED_BATCH])

    async def seed_history(self, decisions: Sequence[Document]) -> None:
        """Bulk: past decisions (as `usecases.assigned` words them) and the claims they
        hold, as deciding them would have left them, without events or timers."""
        claims = [claim_of(d, claim_id) for d in decisions for claim_id in d["held"]]
        for n in range(0, len(claims), SEED_BATCH):
            await self._insert_partitioned(CLAIMS, claims[n : n + SEED_BATCH])
        for n in range(0, len(decisions), SEED_BATCH):
            await insert_new(self._decisions, decisions[n : n + SEED_BATCH])

    async def retire_days(self, before: date) -> list[str]:
        """Drop the claim and release partitions of the days before `before`. No request
        can take a slot in the past, and each decision keeps what it held; but every
        collection left makes each read dearer on FerretDB 1.24 (an `_id` read costs 3
        times as much among 1,500 collections: `bench/ferretdb_growth_bench.py`)."""
        names = await self._db.list_collection_names()
        old = sorted(n for n in names if (day := partition_day(n)) is not None and day < before)
        for name in old:
            await self._db.drop_collection(name)
        return old

    async def claims_stored(self) -> tuple[int, int]:
        """How many claims are stored (estimated), and in how many day partitions."""
        names = [n for n in await self._db.list_collection_names() if n.startswith(f"{CLAIMS}_")]
        counts = [await self._db[n].estimated_document_count() for n in names]
        return sum(counts), len(names)


@dataclass(eq=False)
class _HeldDecision:
    document: Document
    events: Sequence[Event]
    then: Then
    attempt: Attempt | None


@dataclass
class _HeldPart:
    """A consumer batch part's blind claims (`SchedulingStore.claim`) and decisions
    (`SchedulingStore.record_then`), written at its end in that order."""

    store: SchedulingStore
    claims: list[tuple[Document, Attempt]] = field(default_factory=list)
    decisions: list[_HeldDecision] = field(default_factory=list)

    async def flush(self) -> None:
        await self.store._record_held(self)
