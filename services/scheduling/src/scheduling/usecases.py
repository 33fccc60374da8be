"""What scheduling does, once: each use case loads, asks `domain` with `now`, and makes
its one write (a decision with its events in the outbox). Subscribers and timers call these.

The decision for a (meeting, revision) is taken in this order, so that a crash or a
second replica at any point leaves nothing wrong behind:
1. read the meeting's history; a decided revision is only finished again;
2. re-validate the request against the policy and the directory (a broken rule is a
   rejection naming rule and source, not a dead letter); an endpoint the directory has
   never named PARKS the request instead: it is decided again when that endpoint's
   EndpointUpdated arrives, or by a durable timer once the grace period has passed
   (then the unknown endpoint is a rejection);
3. claim every endpoint bucket, then enough ports on one bridge, or each bridge's share
   of a cascade (inserts, `reservations`);
4. record the one decision with its events (insert keyed by meeting and revision; in a
   consumer batch, with the part's other decisions at its end when step 5 frees nothing);
5. finish: release what the decision says (the old slot of a change, or this attempt's
   claims after a rejection) and what a losing twin replica claimed; schedule timers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from hnth_contracts import (
    Conflict,
    EndpointGroupUpdated,
    EndpointUpdated,
    Event,
    HoldDecided,
    MeetingCancelled,
    MeetingChanged,
    MeetingRequested,
    ReportKind,
    RuleRef,
    SlotAssigned,
    SlotRejected,
    UnitUpdated,
    Window,
    decode_event,
)
from hnth_contracts.groups import Group, Member
from hnth_contracts.policy import Policy
from hnth_kit.clock import Clock
from hnth_kit.mongo import Document
from scheduling import domain
from scheduling.domain import Directory, Request
from scheduling.reservations import Claims, Slots, in_the_way
from scheduling.store import CANCELLED, Attempt, History, Then, decision_id

log = logging.getLogger(__name__)

ANNUAL, INSPECTION, RECORD = "annual_report", "inspection", "meeting_record"
UNKNOWN_ENDPOINT = "unknown_endpoint"
HOLD = "hold_deadline"
"""Timer kinds: year-end report, periodic inspection, meeting record, end of a wait, end
of a hold nobody decided."""


class Store(Claims, Protocol):
    """The store methods the use cases need (`SchedulingStore`, or a fake in unit tests)."""

    async def history(self, tenant: str, meeting_id: str) -> History: ...
    async def skip(self, tenant: str, meeting_id: str, revisions: Iterable[int]) -> None: ...
    async def record(
        self, document: Document, marker: str, events: Sequence[Event]
    ) -> tuple[Document, bool]: ...
    async def record_then(
        self,
        document: Document,
        marker: str,
        events: Sequence[Event],
        then: Then,
        attempt: Attempt | None = None,
    ) -> Document: ...
    async def settle_claims(self) -> None: ...
    async def settle(
        self, decision_id: str, fields: Document, events: Sequence[Event], kind: str = ...
    ) -> Document: ...
    async def release(self, claim_ids: Iterable[str], reason: str, at: datetime) -> None: ...
    async def directory_view(
        self, tenant: str, codes: Iterable[str]
    ) -> dict[str, bool | None] | None: ...
    async def units_view(self, tenant: str, code: str) -> dict[str, bool | None] | None: ...
    def forget(self, tenant: str, codes: Iterable[str]) -> None: ...
    async def park(
        self, event: MeetingRequested | MeetingChanged, unknown: Sequence[str], at: datetime
    ) -> Document: ...
    async def parked(self, parked_id: str) -> Document | None: ...
    async def parked_for(self, tenant: str, code: str) -> list[Document]: ...
    async def unpark(self, parked_id: str) -> None: ...
    async def unpark_meeting(self, tenant: str, meeting_id: str) -> None: ...
    async def record_endpoint(self, event: EndpointUpdated) -> bool: ...
    async def record_unit(self, event: UnitUpdated) -> bool: ...
    async def record_group(self, event: EndpointGroupUpdated) -> bool: ...
    async def expansion_view(
        self, tenant: str, codes: Iterable[str]
    ) -> tuple[dict[str, Group | None], list[Member], dict[str, str]]: ...
    async def endpoint(self, tenant: str, code: str) -> Document | None: ...


class Timers(Protocol):
    async def schedule(
        self, timer_id: str, kind: str, due_at: datetime, tenant: str, payload: Mapping[str, Any]
    ) -> None: ...


def decided(request: Request, now: datetime) -> Document:
    """The part of a decision every outcome has."""
    return {
        "_id": decision_id(request.tenant, request.meeting_id, request.revision),
        "tenant": request.tenant,
        "meeting_id": request.meeting_id,
        "revision": request.revision,
        "start": request.start,
        "end": request.end,
        "host_unit": request.host_unit,
        "title": request.title,
        "main_endpoint": request.main_endpoint,
        "priority": request.priority,
        "rooms": list(request.rooms),
        "groups": {code: list(codes) for code, codes in request.expanded},
        "decided_at": now,
    }


def assigned(
    request: Request,
    shares: Sequence[domain.Share],
    held: Sequence[str],
    release: Sequence[str],
    now: datetime,
) -> Document:
    """The decision giving the request its slot: the claims it holds, those it frees, and
    each bridge's share when it is cascaded (the host's first)."""
    return {
        **decided(request, now),
        "outcome": "assigned",
        "bridge": shares[0].bridge,
        "cascade": [
            {"bridge": s.bridge, "endpoints": list(s.endpoints), "ports": s.ports}
            for s in shares
            if len(shares) > 1
        ],
        "held": list(held),
        "release": list(release),
    }


def rejected(request: Request, release: Sequence[str], now: datetime) -> Document:
    return {**decided(request, now), "outcome": "rejected", "held": [], "release": list(release)}


def releases_nothing(decision: Document, attempt: Attempt | None) -> bool:
    """Whether finishing the decision (this attempt's, if it stands) frees no claim."""
    held = set(decision["held"])
    return not decision["release"] and (attempt is None or set(attempt.inserted) <= held)


def standing(history: History, meeting_id: str) -> Document | None:
    """The decision of another meeting in `meeting_id`'s way: its current slot, or the one
    `meeting_id` already displaced (a twin replica did, after this one read the claims)."""
    if history.current is not None:
        return history.current
    last = next((d for d in reversed(history.decisions) if d["outcome"] != "skipped"), None)
    if last is not None and last.get("preempted_by") == meeting_id:
        return last
    return None


def request_of_decision(decision: Document) -> Request:
    """The request a decision was taken on, as far as the decision keeps it (enough to look
    for free windows; older decisions kept no title or main endpoint)."""
    rooms = tuple(decision["rooms"])
    return Request(
        tenant=decision["tenant"],
        meeting_id=decision["meeting_id"],
        revision=decision["revision"],
        title=decision.get("title") or decision["meeting_id"],
        host_unit=decision["host_unit"],
        main_endpoint=decision.get("main_endpoint") or rooms[0],
        endpoints=rooms,
        start=decision["start"],
        end=decision["end"],
        priority=decision.get("priority"),
    )


class Scheduling:
    def __init__(
        self,
        store: Store,
        policy_for: Callable[[str], Policy],
        clock: Clock,
        timers: Timers,
        *,
        alternative_reads: int = 2000,
    ) -> None:
        self.store = store
        self.slots = Slots(store)
        self.alternative_reads = alternative_reads
        """Database reads one rejection may spend looking for alternative windows."""
        self.policy_for = policy_for
        self.clock = clock
        self.timers = timers

    # ------------------------------------------------------------ requests and changes

    async def decide(
        self, event: MeetingRequested | MeetingChanged, *, parked: bool = False, wait: bool = True
    ) -> Document | None:
        """Decide the request once; returns the decision that stands (None if ignored or
        parked). `parked`: the request comes out of the parked ones (drop it when decided);
        `wait=False`: the grace period is over, unknown endpoints are rejected."""
        request = await self._expanded(domain.request_of(event))
        policy = self.policy_for(request.tenant)
        now = self.clock.now()
        history = await self.store.history(request.tenant, request.meeting_id)
        parked_id = decision_id(request.tenant, request.meeting_id, request.revision)
        if history.cancelled is not None:
            log.info("meeting %s is cancelled; %s ignored", request.meeting_id, event.type)
            if parked:
                await self.store.unpark(parked_id)
            return None
        existing = history.decision(request.revision)
        if existing is not None:
            await self._finish(existing, None, now)
            if parked:
                await self.store.unpark(parked_id)
            return existing
        await self.store.skip(
            request.tenant, request.meeting_id, range(len(history.decisions), request.revision)
        )
        directory, units = await self._directory(request)
        if wait and domain.unknown_codes(request, directory, units):
            waiting, directory, units = await self._waits(
                event, request, policy, (directory, units), now
            )
            if waiting:
                return None
            parked = True
        violations = domain.policy_violations(request, policy, directory, now, units)
        document, events, attempt = await self._decision(
            request, policy, event, now, violations, history.current
        )
        return await self._record(document, events, event, attempt, now, parked, wait)

    async def _record(
        self,
        document: Document,
        events: Sequence[Event],
        cause: MeetingRequested | MeetingChanged,
        attempt: Attempt | None,
        now: datetime,
        parked: bool,
        wait: bool,
    ) -> Document | None:
        """Record the decision, make the claims match it and drop its parked entry. The
        usual assignment frees no claim: it waits for the end of its consumer batch part,
        with the part's other decisions and blind claims (`record_then`); one that frees
        claims is recorded at once, as a later request of the batch may want them. A
        decision whose attempt lost a claim it took blind is not recorded: the request
        is decided again."""

        async def finish(recorded: Document | None) -> None:
            if recorded is None:
                await self._decide_again(cause, attempt, parked, wait)
                return
            await self._finish(recorded, attempt, now)
            if parked:
                await self.store.unpark(recorded["_id"])

        marker = str(cause.event_id)
        if releases_nothing(document, attempt):
            return await self.store.record_then(document, marker, events, finish, attempt)
        await self.store.settle_claims()
        if attempt is not None and attempt.lost:
            return await self._decide_again(cause, attempt, parked, wait)
        recorded, _ = await self.store.record(document, marker, events)
        await finish(recorded)
        return recorded

    async def _decide_again(
        self,
        cause: MeetingRequested | MeetingChanged,
        attempt: Attempt | None,
        parked: bool,
        wait: bool,
    ) -> Document | None:
        """Another meeting's claim got in before one this attempt took blind (a stale
        picture: another replica owned the calendar a moment ago). The request is decided
        again, reading the claims now (it adopts this try's claims it can still use), and
        what this try inserted that the decision standing then does not hold is released,
        as when a twin replica's decision stands (`_finish`)."""
        assert attempt is not None, "only an attempt's blind claims can be lost"
        log.info("meeting %s lost %s to another; deciding again", attempt.meeting_id, attempt.lost)
        stands = await self.decide(cause, parked=parked, wait=wait)
        kept = set(stands["held"]) if stands is not None else set()
        left = [c for c in attempt.inserted if c not in kept]
        await self.store.release(left, "superseded", self.clock.now())
        return stands

    async def _decision(
        self,
        request: Request,
        policy: Policy,
        cause: Event,
        now: datetime,
        violations: list[Conflict],
        current: Document | None,
    ) -> tuple[Document, list[Event], Attempt | None]:
        """Claim the slot (unless a rule is broken) and word the decision and its events."""
        if violations:
            rejection = domain.reject(request, violations, [], cause, now)
            return rejected(request, [], now), [rejection], None
        attempt = Attempt(
            tenant=request.tenant,
            meeting_id=request.meeting_id,
            revision=request.revision,
            meeting=Window(start=request.start, end=request.end),
            reserved=domain.reserved_window(request.start, request.end, policy),
        )
        shares, conflicts = await self.slots.reserve(request, policy, attempt, current)
        lower = await self._lower(request, policy, conflicts) if shares is None else []
        if lower and domain.preempts(request, policy):
            await self._displace(lower, request, policy, attempt, cause, now)
            shares, conflicts = await self.slots.reserve(request, policy, attempt, current)
            lower = []  # what stands in the way now outranks it, or was not displaced
        if shares is None:
            alternatives = await self.slots.alternatives(
                request, policy, now, self.alternative_reads
            )
            ids = [d["meeting_id"] for d in lower]
            if ids:  # the IT department may offer to pre-empt them
                conflicts = [*conflicts, domain.offer_conflict(request, policy, ids)]
            rejection = domain.reject(request, conflicts, alternatives, cause, now, ids)
            return rejected(request, attempt.inserted, now), [rejection], attempt
        return (*self._assignment(request, policy, cause, now, attempt, shares, current), attempt)

    # ------------------------------------------------------------ pre-emption

    async def _lower(
        self, request: Request, policy: Policy, conflicts: Sequence[Conflict]
    ) -> list[Document]:
        """The current decisions of the meetings in the request's way when those alone stand
        there and the request outranks every one (else none): what it may pre-empt."""
        if not domain.may_outrank(request, policy):
            return []  # the common case: a routine request reads nothing more
        others = domain.blockers(conflicts)
        if others is None:
            return []
        histories = [await self.store.history(request.tenant, o) for o in others]
        found = [d for d in (standing(h, request.meeting_id) for h in histories) if d is not None]
        levels = {d["meeting_id"]: d.get("priority") for d in found}
        if len(found) < len(others) or not domain.outranks_all(request, policy, levels):
            return []
        return found

    async def _displace(
        self,
        victims: Sequence[Document],
        request: Request,
        policy: Policy,
        attempt: Attempt,
        cause: Event,
        now: datetime,
    ) -> None:
        """Release each lower meeting's slot, once per its revision (a keyed settlement:
        twin replicas and redeliveries displace it once), telling its host why with the
        nearest free windows outside the slot being taken, and its parties (`SlotReleased`).
        The part of the slot the request needs is transferred to it first (the next claim
        of each key, inserted before the release), so reserving again finds it the
        request's, never a competitor's that took it in between."""
        why = domain.displaced_conflict(request, policy)
        for victim in victims:
            # what the request needs of the slot passes to it as it is released: nobody
            # can take it in between and leave the victim displaced for nothing
            slot = victim["release"] if victim["outcome"] == "preempted" else victim["held"]
            await self.store.transfer(attempt, in_the_way(request, attempt, slot))
            if victim["outcome"] == "preempted":  # a twin displaced it: finish, once
                await self._finish(victim, None, now)
                continue
            displaced = request_of_decision(victim)
            alternatives = await self.slots.alternatives(
                displaced, policy, now, self.alternative_reads, avoid=attempt.reserved
            )
            events = domain.displaced_events(displaced, why, alternatives, cause, now)
            fields = {"outcome": "preempted", "held": [], "release": victim["held"]}
            fields |= {"preempted_by": request.meeting_id, "preempted_at": now}
            kind = "settled" if victim["outcome"] == "held" else "preempted"
            settled = await self.store.settle(victim["_id"], fields, list(events), kind=kind)
            await self._finish(settled, None, now)

    def _assignment(
        self,
        request: Request,
        policy: Policy,
        cause: Event,
        now: datetime,
        attempt: Attempt,
        shares: Sequence[domain.Share],
        current: Document | None,
    ) -> tuple[Document, list[Event]]:
        assignment = domain.assign(request, policy, shares, cause, now)
        events: list[Event] = [assignment]
        old: list[str] = []
        if current is not None:
            events.append(
                domain.release(request.meeting_id, current["revision"], "changed", cause, now)
            )
            old = [c for c in current["held"] if c not in set(attempt.held)]
        document = assigned(request, shares, attempt.held, old, now)
        # an approved slot stays approved when its host changes it (re-validated as ever)
        if domain.needs_approval(policy) and (current is None or current["outcome"] == "held"):
            held = domain.hold(assignment, policy, now)
            events[0] = held
            document |= {
                "outcome": "held",
                "expires_at": held.expires_at,
                "assignment": assignment.model_dump(mode="json"),
            }
        return document, events

    async def _expanded(self, request: Request) -> Request:
        """The request with its groups expanded to their active endpoints, as now."""
        if not request.groups:
            return request
        groups, endpoints, kinds = await self.store.expansion_view(request.tenant, request.groups)
        expanded = domain.with_groups(request, groups, endpoints, kinds)
        unknown = [code for code, group in groups.items() if group is None]
        if unknown:
            log.warning("meeting %s names unknown groups %s", request.meeting_id, unknown)
        return expanded

    async def _directory(self, request: Request) -> tuple[Directory | None, Directory | None]:
        """Scheduling's copy of the directory for this request: endpoints, host unit."""
        directory = await self.store.directory_view(request.tenant, request.rooms)
        units = await self.store.units_view(request.tenant, request.host_unit)
        return directory, units

    async def _waits(
        self,
        event: MeetingRequested | MeetingChanged,
        request: Request,
        policy: Policy,
        known: tuple[Directory | None, Directory | None],
        now: datetime,
    ) -> tuple[bool, Directory | None, Directory | None]:
        """Park the request while an endpoint or its host unit is unknown and the grace
        period lasts. Returns whether it waits, and the directory to decide with otherwise."""
        directory, units = known
        parked_id = decision_id(request.tenant, request.meeting_id, request.revision)
        entry = await self.store.parked(parked_id)  # the first wait's, on a redelivery
        parked_at = entry["parked_at"] if entry else None
        if not domain.must_wait(request, directory, parked_at, policy, now, units):
            return False, directory, units
        unknown = domain.unknown_codes(request, directory, units)
        await self._park(event, unknown, policy, now)
        # the entry may have been recorded (finding nothing parked) meanwhile: look again
        self.store.forget(request.tenant, unknown)
        directory, units = await self._directory(request)
        return bool(domain.unknown_codes(request, directory, units)), directory, units

    async def _park(
        self,
        event: MeetingRequested | MeetingChanged,
        unknown: Sequence[str],
        policy: Policy,
        now: datetime,
    ) -> None:
        """Wait for the directory: nothing is emitted; a timer ends the wait at the latest."""
        entry = await self.store.park(event, unknown, now)
        parked_at = entry["parked_at"]
        await self.timers.schedule(
            f"{UNKNOWN_ENDPOINT}|{entry['_id']}",
            UNKNOWN_ENDPOINT,
            domain.grace_ends(parked_at, policy),
            event.tenant,
            {"parked": entry["_id"]},
        )
        log.info(
            "meeting %s revision %s waits for unknown %s",
            entry["meeting_id"],
            entry["revision"],
            ", ".join(unknown),
        )

    async def _decide_parked(self, entry: Document, *, grace_over: bool = False) -> None:
        event = decode_event(entry["event"])
        assert isinstance(event, MeetingRequested | MeetingChanged), entry["_id"]
        if grace_over:  # another replica may have learnt the endpoints since
            self.store.forget(event.tenant, entry["unknown"])
        await self.decide(event, parked=True, wait=not grace_over)

    async def grace_over(self, parked_id: str) -> list[Event]:
        """The wait for unknown endpoints ends: decide (rejecting those still unknown).
        The decision carries its own events; a request decided already is gone."""
        entry = await self.store.parked(parked_id)
        if entry is not None:
            await self._decide_parked(entry, grace_over=True)
        return []

    async def _finish(self, decision: Document, attempt: Attempt | None, now: datetime) -> None:
        """Make the claims match the decision that stands; safe to repeat."""
        await self.store.release(decision.get("release", []), decision["outcome"], now)
        if attempt is not None:  # a twin replica decided: drop what this attempt added
            held = set(decision.get("held", []))
            await self.store.release(
                [c for c in attempt.inserted if c not in held], "superseded", now
            )
        if decision["outcome"] == "held":
            await self.timers.schedule(
                f"{HOLD}|{decision['_id']}",
                HOLD,
                decision["expires_at"],
                decision["tenant"],
                {"meeting_id": decision["meeting_id"], "revision": decision["revision"]},
            )
        if decision["outcome"] == "assigned":
            await self.timers.schedule(
                f"{RECORD}|{decision['_id']}",
                RECORD,
                decision["end"],
                decision["tenant"],
                {"meeting_id": decision["meeting_id"], "revision": decision["revision"]},
            )

    # ------------------------------------------------------------ holds

    async def hold_decided(self, event: HoldDecided) -> Document | None:
        """An operator approved or rejected a held revision (`HoldDecided`)."""
        return await self._settle(
            event.tenant,
            event.meeting_id,
            event.revision,
            event,
            approved=event.approved,
            why=event.rule,
            reason=event.reason,
        )

    async def hold_expired(self, tenant: str, meeting_id: str, revision: int) -> list[Event]:
        """The hold's deadline passed undecided: released, the host told why. The timer
        carries no event; the decision's outbox carries the notices."""
        await self._settle(tenant, meeting_id, revision, None, approved=False)
        return []

    async def _settle(
        self,
        tenant: str,
        meeting_id: str,
        revision: int,
        cause: Event | None,
        *,
        approved: bool,
        why: RuleRef | None = None,
        reason: str | None = None,
    ) -> Document | None:
        """Turn the held decision of `revision` into an assignment or a rejection, once:
        the write only applies while the decision is still held, so twin replicas, a
        redelivered command and the deadline racing an approval decide it once. A
        revision no longer held (decided, superseded by a change, cancelled) is left."""
        now = self.clock.now()
        history = await self.store.history(tenant, meeting_id)
        decision = history.decision(revision)
        if decision is None or decision["outcome"] != "held":
            if decision is not None:
                await self._finish(decision, None, now)
            return decision
        if history.cancelled is not None or history.latest_revision != revision:
            return decision  # the cancellation or the change released it already
        assignment = SlotAssigned.model_validate(decision["assignment"], strict=False)
        fields: Document
        if approved:
            assert cause is not None, "only an operator approves"
            events: list[Event] = [domain.approved(assignment, cause, now)]
            fields = {"outcome": "assigned", "approved_at": now}
        else:
            policy = self.policy_for(tenant)
            expired = why is None
            conflict = (
                domain.expired_conflict(policy)
                if why is None
                else domain.rejected_conflict(why, reason)
            )
            rejection = SlotRejected.create(
                tenant=tenant,
                correlation_id=meeting_id,
                causation_id=str(cause.event_id) if cause else None,
                occurred_at=now,
                producer=domain.PRODUCER,
                meeting_id=meeting_id,
                revision=revision,
                host_unit=assignment.host_unit,
                title=assignment.title,
                conflicts=(conflict,),
            )
            released = domain.release(
                meeting_id, revision, "hold_expired" if expired else "hold_rejected", rejection, now
            )
            events = [rejection, released]
            fields = {"outcome": "rejected", "held": [], "release": decision["held"]}
        settled = await self.store.settle(decision["_id"], fields, events)  # or a twin's
        await self._finish(settled, None, now)
        return settled

    # ------------------------------------------------------------ cancellations

    async def cancel(self, event: MeetingCancelled) -> Document:
        """Release the meeting's slot, once; later requests of the meeting are ignored."""
        now = self.clock.now()
        history = await self.store.history(event.tenant, event.meeting_id)
        if history.cancelled is not None:
            await self._finish(history.cancelled, None, now)
            return history.cancelled
        current = history.current
        events: list[Event] = []
        if current is not None:
            events.append(
                domain.release(event.meeting_id, current["revision"], "cancelled", event, now)
            )
        document = {
            "_id": decision_id(event.tenant, event.meeting_id, CANCELLED),
            "tenant": event.tenant,
            "meeting_id": event.meeting_id,
            "revision": current["revision"] if current else None,
            "outcome": "cancelled",
            "held": [],
            "release": current["held"] if current else [],
            "decided_at": now,
        }
        recorded, _ = await self.store.record(document, str(event.event_id), events)
        await self._finish(recorded, None, now)
        # a parked request of the meeting must not be decided later (rare: a scan is fine)
        await self.store.unpark_meeting(event.tenant, event.meeting_id)
        return recorded

    # ------------------------------------------------------------ the directory

    async def on_endpoint(self, event: EndpointUpdated) -> None:
        """Remember the endpoint, make sure its report and inspection timers exist, and
        decide the requests that waited for it."""
        if not await self.store.record_endpoint(event):
            return
        policy = self.policy_for(event.tenant)
        now = self.clock.now()
        year = int(domain.next_annual_report(policy, now).period)
        index = domain.inspection_index(policy, now)
        # independent round trips, at once: a province announces hundreds of endpoints at
        # start, and the platform is ready only when scheduling has taken them all in
        _, _, waiting = await asyncio.gather(
            self._schedule_annual(policy, event.tenant, event.code, year),
            self._schedule_inspection(policy, event.tenant, event.code, index),
            self.store.parked_for(event.tenant, event.code),
        )
        for entry in waiting:
            await self._decide_parked(entry)

    async def on_group(self, event: EndpointGroupUpdated) -> None:
        """Remember the group: meetings decided from now on expand it as it is."""
        await self.store.record_group(event)

    async def on_unit(self, event: UnitUpdated) -> None:
        """Remember the unit; decide the requests that waited for it."""
        if not await self.store.record_unit(event):
            return
        for entry in await self.store.parked_for(event.tenant, domain.UNIT + event.code):
            await self._decide_parked(entry)

    # ------------------------------------------------------------ the calendar

    async def _schedule_annual(self, policy: Policy, tenant: str, endpoint: str, year: int) -> None:
        due = domain.annual_report(policy, year)
        await self._schedule_for_endpoint(ANNUAL, tenant, endpoint, year, due.announce_at)

    async def _schedule_inspection(
        self, policy: Policy, tenant: str, endpoint: str, index: int
    ) -> None:
        due = domain.inspection(policy, index)
        await self._schedule_for_endpoint(INSPECTION, tenant, endpoint, index, due.announce_at)

    async def _schedule_for_endpoint(
        self, kind: str, tenant: str, endpoint: str, number: int, at: datetime
    ) -> None:
        """One timer per (kind, endpoint, year or period): scheduling it again is a no-op."""
        payload = {"endpoint": endpoint, "number": number}
        await self.timers.schedule(
            f"{kind}|{tenant}|{endpoint}|{number}", kind, at, tenant, payload
        )

    async def annual_report_due(self, tenant: str, endpoint: str, year: int) -> list[Event]:
        """The endpoint's year-end report is due (and next year's is scheduled)."""
        policy = self.policy_for(tenant)
        await self._schedule_annual(policy, tenant, endpoint, year + 1)
        return await self._endpoint_report(
            policy,
            tenant,
            endpoint,
            ReportKind.ANNUAL_ENDPOINT_REPORT,
            domain.annual_report(policy, year),
            "report.annual.due",
        )

    async def inspection_due(self, tenant: str, endpoint: str, index: int) -> list[Event]:
        """The endpoint's periodic inspection is due (and the next one is scheduled)."""
        policy = self.policy_for(tenant)
        await self._schedule_inspection(policy, tenant, endpoint, index + 1)
        return await self._endpoint_report(
            policy,
            tenant,
            endpoint,
            ReportKind.PERIODIC_INSPECTION,
            domain.inspection(policy, index),
            "inspection.period_months",
        )

    async def _endpoint_report(
        self,
        policy: Policy,
        tenant: str,
        code: str,
        kind: ReportKind,
        due: domain.Due,
        rule: str,
    ) -> list[Event]:
        entry = await self.store.endpoint(tenant, code)
        if entry is None or not entry["active"]:
            return []  # a retired endpoint owes nothing; its timers keep the calendar going
        return [
            domain.report_due(
                policy,
                tenant=tenant,
                kind=kind,
                due=due,
                rule=rule,
                now=self.clock.now(),
                endpoint=entry["code"],
                unit=entry["unit"],
            )
        ]

    async def meeting_record_due(self, tenant: str, meeting_id: str, revision: int) -> list[Event]:
        """The meeting has ended: its record is due, unless it was cancelled or moved."""
        history = await self.store.history(tenant, meeting_id)
        current = history.current
        if current is None or current["revision"] != revision:
            return []  # cancelled, or moved: the newer revision has its own timer
        policy = self.policy_for(tenant)
        return [
            domain.report_due(
                policy,
                tenant=tenant,
                kind=ReportKind.MEETING_RECORD,
                due=domain.meeting_record(policy, current["start"], current["end"]),
                rule="meeting_record.due_after",
                now=self.clock.now(),
                unit=current["host_unit"],
                meeting_id=meeting_id,
            )
        ]
