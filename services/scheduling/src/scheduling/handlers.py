"""Scheduling's subscribers and timers: event -> domain -> store (+ outbox).

The decision for a (meeting, revision) is taken in this order, so that a crash or a
second replica at any point leaves nothing wrong behind:
1. read the meeting's history; a decided revision is only finished again;
2. re-validate the request against the policy and the directory (a broken rule is a
   rejection naming rule and source, not a dead letter); an endpoint the directory has
   never named PARKS the request instead: it is decided again when that endpoint's
   EndpointUpdated arrives, or by a durable timer once the grace period has passed
   (then the unknown endpoint is a rejection);
3. claim every endpoint bucket, then enough ports on one bridge (inserts);
4. record the one decision with its events (insert keyed by meeting and revision);
5. finish: release what the decision says (the old slot of a change, or this attempt's
   claims after a rejection) and what a losing twin replica claimed; schedule timers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime

from hnth_contracts import (
    Conflict,
    EndpointUpdated,
    Event,
    MeetingCancelled,
    MeetingChanged,
    MeetingRequested,
    ReportKind,
    UnitUpdated,
    Window,
    decode_event,
)
from hnth_contracts.policy import Bridge, Policy
from hnth_kit.clock import Clock
from hnth_kit.consumer import Handler, RawMessage
from hnth_kit.mongo import Document
from hnth_kit.timers import Timer, TimerHandler, Timers
from scheduling import domain
from scheduling.domain import Directory, Holder, Occupancy, Request
from scheduling.store import (
    CANCELLED,
    Attempt,
    History,
    KeyState,
    SchedulingStore,
    decision_id,
    endpoint_key,
    holder_of,
    port_key,
)

log = logging.getLogger(__name__)

ANNUAL, INSPECTION, RECORD = "annual_report", "inspection", "meeting_record"
READ_AHEAD = 16
"""Alternative windows whose endpoints are read in one walk (a bucket apart, they share
most buckets; the read budget may be overrun by one such walk)."""
UNKNOWN_ENDPOINT = "unknown_endpoint"


class Scheduler:
    def __init__(
        self,
        store: SchedulingStore,
        policy_for: Callable[[str], Policy],
        clock: Clock,
        timers: Timers,
        *,
        alternative_reads: int = 2000,
    ) -> None:
        self.store = store
        self.alternative_reads = alternative_reads
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
        request = domain.request_of(event)
        policy = self.policy_for(request.tenant)
        now = self.clock.now()
        first = await self.store.first_sight(request.tenant, request.meeting_id)
        if first:
            history = History([], None)  # nothing to read: the common, fast path
        else:
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
        current = history.current
        directory, units = await self._directory(request)
        if wait and domain.unknown_codes(request, directory, units):
            waiting, directory, units = await self._waits(
                event, request, policy, (directory, units), first, now
            )
            if waiting:
                return None
            parked = True
        violations = domain.policy_violations(request, policy, directory, now, units)
        attempt: Attempt | None = None
        bridge: Bridge | None = None
        conflicts: list[Conflict] = violations
        alternatives: list[Window] = []
        if not violations:
            attempt = Attempt(
                tenant=request.tenant,
                meeting_id=request.meeting_id,
                revision=request.revision,
                meeting=Window(start=request.start, end=request.end),
                reserved=domain.reserved_window(request.start, request.end, policy),
            )
            bridge, conflicts = await self._reserve(request, policy, attempt, current)
            if bridge is None:
                alternatives = await self._alternatives(request, policy, now)
        document, events = self._decision(
            request, policy, event, now, attempt, bridge, conflicts, alternatives, current
        )
        recorded, _ = await self.store.record(document, str(event.event_id), events)
        await self._finish(recorded, attempt, now)
        if parked:
            await self.store.unpark(parked_id)
        return recorded

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
        first: bool,
        now: datetime,
    ) -> tuple[bool, Directory | None, Directory | None]:
        """Park the request while an endpoint or its host unit is unknown and the grace
        period lasts. Returns whether it waits, and the directory to decide with otherwise."""
        directory, units = known
        parked_id = decision_id(request.tenant, request.meeting_id, request.revision)
        entry = None if first else await self.store.parked(parked_id)
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

    async def on_grace_over(self, timer: Timer) -> list[Event]:
        """The wait for unknown endpoints ends: decide (rejecting those still unknown).
        The decision carries its own events; a request decided already is gone."""
        entry = await self.store.parked(timer.payload["parked"])
        if entry is not None:
            await self._decide_parked(entry, grace_over=True)
        return []

    def _decision(
        self,
        request: Request,
        policy: Policy,
        cause: Event,
        now: datetime,
        attempt: Attempt | None,
        bridge: Bridge | None,
        conflicts: Sequence[Conflict],
        alternatives: Sequence[Window],
        current: Document | None,
    ) -> tuple[Document, list[Event]]:
        document: Document = {
            "_id": decision_id(request.tenant, request.meeting_id, request.revision),
            "tenant": request.tenant,
            "meeting_id": request.meeting_id,
            "revision": request.revision,
            "start": request.start,
            "end": request.end,
            "host_unit": request.host_unit,
            "rooms": list(request.rooms),
            "decided_at": now,
        }
        if bridge is not None and attempt is not None:
            events: list[Event] = [domain.assign(request, policy, bridge, cause, now)]
            old: list[str] = []
            if current is not None:
                events.append(
                    domain.release(request.meeting_id, current["revision"], "changed", cause, now)
                )
                old = [c for c in current["held"] if c not in set(attempt.held)]
            return {
                **document,
                "outcome": "assigned",
                "bridge": bridge.name,
                "held": attempt.held,
                "release": old,
            }, events
        rejected = domain.reject(request, conflicts, alternatives, cause, now)
        release = attempt.inserted if attempt is not None else []
        return {**document, "outcome": "rejected", "held": [], "release": release}, [rejected]

    async def _finish(self, decision: Document, attempt: Attempt | None, now: datetime) -> None:
        """Make the claims match the decision that stands; safe to repeat."""
        await self.store.release(decision.get("release", []), decision["outcome"], now)
        if attempt is not None:  # a twin replica decided: drop what this attempt added
            held = set(decision.get("held", []))
            await self.store.release(
                [c for c in attempt.inserted if c not in held], "superseded", now
            )
        if decision["outcome"] == "assigned":
            await self.timers.schedule(
                f"{RECORD}|{decision['_id']}",
                RECORD,
                decision["end"],
                decision["tenant"],
                {"meeting_id": decision["meeting_id"], "revision": decision["revision"]},
            )

    async def _reserve(
        self, request: Request, policy: Policy, attempt: Attempt, current: Document | None
    ) -> tuple[Bridge | None, list[Conflict]]:
        """Claim every endpoint bucket, then enough ports on one bridge. On failure, the
        conflicts name every busy endpoint's meeting AND, when no bridge has room either,
        the meetings holding its ports: a host learns all that stands in the way."""
        spans = domain.buckets(attempt.reserved)
        rooms = {
            endpoint_key(request.tenant, room, b): (room, b)
            for room in request.rooms
            for b in spans
        }
        states = await self.store.states(rooms)
        busy = [
            (rooms[k][0], holder_of(s.holder))
            for k, s in states.items()
            if s.holder is not None and s.holder["meeting_id"] != request.meeting_id
        ]
        if not busy:
            for state in states.values():
                if state.holder is not None:
                    attempt.adopt(state)
            others = await self.store.claim(
                attempt,
                {k: s.gen for k, s in states.items() if s.holder is None},
                {
                    k: {"kind": "endpoint", "resource": room, "bucket": b}
                    for k, (room, b) in rooms.items()
                },
            )
            busy = [(rooms[k][0], holder_of(s.holder)) for k, s in others.items() if s.holder]
        preferred = current.get("bridge") if current else None
        bridges = domain.bridges_in_order(policy, preferred)
        if busy:
            conflicts = domain.endpoint_conflicts(request, busy, policy)
            fits, full = await self._first_bridge(
                request, policy, bridges, lambda b: self._port_census(request, b, spans)
            )
            return None, conflicts + ([] if fits else full)
        return await self._first_bridge(
            request, policy, bridges, lambda b: self._claim_ports(request, attempt, b, spans)
        )

    async def _first_bridge(
        self,
        request: Request,
        policy: Policy,
        bridges: Sequence[Bridge],
        take: Callable[[Bridge], Awaitable[list[Holder] | None]],
    ) -> tuple[Bridge | None, list[Conflict]]:
        """The first bridge `take` finds room on (None: its holders when full), or the
        conflicts of every bridge."""
        conflicts: list[Conflict] = []
        for bridge in bridges:
            if bridge.ports < request.ports:
                conflicts.append(domain.too_small(bridge, request.ports))
                continue
            holders = await take(bridge)
            if holders is None:
                return bridge, []
            conflicts.extend(domain.capacity_conflicts(bridge, holders, policy))
        return None, conflicts

    async def _claim_ports(
        self, request: Request, attempt: Attempt, bridge: Bridge, spans: range
    ) -> list[Holder] | None:
        """Claim `request.ports` port tokens on `bridge` in every bucket. Returns None on
        success; else the meetings holding the ports of the buckets that ran out.

        The ports it would try first are claimed blind (on a quiet calendar that is all).
        Where that comes back short, the rest of the bucket is read in one go and only the
        ports that read free are claimed, the next ones in turn where one was taken
        meanwhile: the inserts decide, the read only spares inserts bound to fail."""
        held_before = len(attempt.held)
        order = domain.port_order(request.meeting_id, bridge.ports)
        need = request.ports
        have = dict.fromkeys(spans, 0)
        holders: dict[int, list[Holder]] = {b: [] for b in spans}
        # (port, generation) still to try, per bucket
        left: dict[int, list[tuple[int, int]]] = {b: [(n, 0) for n in order[:need]] for b in spans}
        rest_read = False
        while True:
            wanted: dict[str, int] = {}
            fields: dict[str, Document] = {}
            for b in spans:
                take = need - have[b]
                for n, gen in left[b][:take]:
                    key = port_key(request.tenant, bridge.name, b, n)
                    wanted[key] = gen
                    fields[key] = {"kind": "port", "resource": bridge.name, "bucket": b, "port": n}
                del left[b][:take]
            if wanted:
                before = set(attempt.held)
                others = await self.store.claim(attempt, wanted, fields)
                for claim_id in set(attempt.held) - before:
                    have[int(claim_id.split("|")[3])] += 1
                for key, state in others.items():
                    if state.holder is not None:
                        holders[int(key.split("|")[3])].append(holder_of(state.holder))
                continue
            short = [b for b in spans if have[b] < need]
            if rest_read or not short:
                break
            rest_read = True
            read = await self._read_ports(request, bridge, {b: order[need:] for b in short})
            for b, states in read.items():
                for n, state in states:
                    if state.holder is None:
                        left[b].append((n, state.gen))
                    elif state.holder["meeting_id"] != request.meeting_id:
                        holders[b].append(holder_of(state.holder))
                    elif have[b] < need:  # its own: the current slot's, or a twin's
                        attempt.adopt(state)
                        have[b] += 1
            if any(have[b] + len(left[b]) < need for b in short):
                break  # a bucket is full: claiming in the others would be released again
        full = [b for b in spans if have[b] + len(left[b]) < need]
        if not full:
            return None
        # keep them in `inserted`: finishing the decision releases them
        del attempt.held[held_before:]
        return [h for b in full for h in holders[b]]

    async def _read_ports(
        self, request: Request, bridge: Bridge, ports: Mapping[int, Sequence[int]]
    ) -> dict[int, list[tuple[int, KeyState]]]:
        """The states of these ports of `bridge`, by bucket in the order given: one walk."""
        keys = {
            port_key(request.tenant, bridge.name, b, n): (b, n)
            for b, numbers in ports.items()
            for n in numbers
        }
        read: dict[int, list[tuple[int, KeyState]]] = {b: [] for b in ports}
        for key, state in (await self.store.states(keys)).items():
            b, n = keys[key]
            read[b].append((n, state))
        return read

    async def _free_ports(
        self, request: Request, bridge: Bridge, spans: Sequence[int]
    ) -> tuple[dict[int, int], dict[int, list[Holder]], int]:
        """Free ports (or the meeting's own) of `bridge` in each bucket, the meetings
        holding the others, and how many ports were read. Two reads at most: the ports it
        would try first, then all the rest of the buckets still short (read whole, so the
        alternatives search knows them exactly for every window that shares them)."""
        order = domain.port_order(request.meeting_id, bridge.ports)
        free = dict.fromkeys(spans, 0)
        holders: dict[int, list[Holder]] = {b: [] for b in spans}
        batch = {b: order[: request.ports] for b in spans}
        read = 0
        for _ in range(2):
            for b, states in (await self._read_ports(request, bridge, batch)).items():
                for _n, state in states:
                    if state.holder is None or state.holder["meeting_id"] == request.meeting_id:
                        free[b] += 1
                    else:
                        holders[b].append(holder_of(state.holder))
            read += sum(len(ports) for ports in batch.values())
            batch = {b: order[request.ports :] for b in spans if free[b] < request.ports}
            if not batch:
                break
        return free, holders, read

    async def _port_census(
        self, request: Request, bridge: Bridge, spans: range
    ) -> list[Holder] | None:
        """Read `bridge`'s ports in the buckets: None when every bucket has the ports the
        meeting needs free, else the meetings holding the ports of the buckets that do not."""
        free, holders, _ = await self._free_ports(request, bridge, spans)
        short = [b for b in spans if free[b] < request.ports]
        return [h for b in short for h in holders[b]] if short else None

    async def _alternatives(self, request: Request, policy: Policy, now: datetime) -> list[Window]:
        """Up to 3 nearest windows of the same length where every endpoint and enough
        ports on one bridge are free, read lazily and within a bounded number of reads."""
        bridges = [b for b in policy.all_bridges if b.ports >= request.ports]
        if not bridges:
            return []
        occupancy = Occupancy()
        budget = [self.alternative_reads]
        found: list[Window] = []
        candidates = domain.alternative_candidates(request, policy, now)
        windows = [domain.reserved_window(c.start, c.end, policy) for c in candidates]
        for n, (candidate, reserved) in enumerate(zip(candidates, windows, strict=True)):
            if budget[0] <= 0:
                break
            if n % READ_AHEAD == 0:
                await self._load_endpoints(request, windows[n : n + READ_AHEAD], occupancy, budget)
            await self._load_ports(request, reserved, bridges, occupancy, budget)
            if domain.is_free(request, reserved, occupancy, bridges):
                found.append(candidate)
                if len(found) == domain.ALTERNATIVES:
                    break
        return found

    async def _load_endpoints(
        self, request: Request, windows: Sequence[Window], occupancy: Occupancy, budget: list[int]
    ) -> None:
        """Who holds the meeting's endpoints in these windows: one walk for them all (on a
        crowded calendar most windows fail on an endpoint, one bucket apart)."""
        missing = list(
            dict.fromkeys(
                (r, b)
                for window in windows
                for b in domain.buckets(window)
                for r in request.rooms
                if (r, b) not in occupancy.endpoints
            )
        )
        states = await self.store.states(endpoint_key(request.tenant, r, b) for r, b in missing)
        budget[0] -= len(missing)
        for (room, b), state in zip(missing, states.values(), strict=True):
            occupancy.endpoints[(room, b)] = holder_of(state.holder) if state.holder else None

    async def _load_ports(
        self,
        request: Request,
        reserved: Window,
        bridges: Sequence[Bridge],
        occupancy: Occupancy,
        budget: list[int],
    ) -> None:
        """The bridges' free ports in the window, once its endpoints are known free."""
        spans = domain.buckets(reserved)
        if any(
            h is not None and h.meeting_id != request.meeting_id
            for h in (occupancy.endpoints[(r, b)] for r in request.rooms for b in spans)
        ):
            return  # an endpoint is busy: no need to read the ports
        for bridge in bridges:
            known = [occupancy.free_ports.get((bridge.name, b)) for b in spans]
            if any(free is not None and free < request.ports for free in known):
                continue  # a bucket already read short: no room on this bridge
            missing = [b for b in spans if (bridge.name, b) not in occupancy.free_ports]
            if missing:
                free, _, read = await self._free_ports(request, bridge, missing)
                budget[0] -= read
                for b in missing:
                    occupancy.free_ports[(bridge.name, b)] = min(free[b], request.ports)
            if all(occupancy.free_ports[(bridge.name, b)] >= request.ports for b in spans):
                return  # one bridge with room is enough

    # ------------------------------------------------------------ cancellations

    async def cancel(self, event: MeetingCancelled) -> Document:
        now = self.clock.now()
        # mark the meeting seen, so a request arriving after its cancellation reads it
        await self.store.first_sight(event.tenant, event.meeting_id)
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

    # ------------------------------------------------------------ the calendar

    async def on_endpoint(self, event: EndpointUpdated) -> None:
        """Remember the endpoint and make sure its report and inspection timers exist."""
        if not await self.store.record_endpoint(event):
            return
        policy = self.policy_for(event.tenant)
        now = self.clock.now()
        year = int(domain.next_annual_report(policy, now).period)
        await self._schedule_annual(policy, event.tenant, event.code, year)
        index = domain.inspection_index(policy, now)
        await self._schedule_inspection(policy, event.tenant, event.code, index)
        for entry in await self.store.parked_for(event.tenant, event.code):
            await self._decide_parked(entry)

    async def on_unit(self, event: UnitUpdated) -> None:
        """Remember the unit; decide the requests that waited for it."""
        if not await self.store.record_unit(event):
            return
        for entry in await self.store.parked_for(event.tenant, domain.UNIT + event.code):
            await self._decide_parked(entry)

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

    async def on_annual(self, timer: Timer) -> list[Event]:
        policy = self.policy_for(timer.tenant)
        endpoint, year = timer.payload["endpoint"], int(timer.payload["number"])
        await self._schedule_annual(policy, timer.tenant, endpoint, year + 1)
        return await self._endpoint_report(
            policy,
            timer,
            ReportKind.ANNUAL_ENDPOINT_REPORT,
            domain.annual_report(policy, year),
            "report.annual.due",
        )

    async def on_inspection(self, timer: Timer) -> list[Event]:
        policy = self.policy_for(timer.tenant)
        endpoint, index = timer.payload["endpoint"], int(timer.payload["number"])
        await self._schedule_inspection(policy, timer.tenant, endpoint, index + 1)
        return await self._endpoint_report(
            policy,
            timer,
            ReportKind.PERIODIC_INSPECTION,
            domain.inspection(policy, index),
            "inspection.period_months",
        )

    async def _endpoint_report(
        self, policy: Policy, timer: Timer, kind: ReportKind, due: domain.Due, rule: str
    ) -> list[Event]:
        entry = await self.store.endpoint(timer.tenant, timer.payload["endpoint"])
        if entry is None or not entry["active"]:
            return []  # a retired endpoint owes nothing; its timers keep the calendar going
        return [
            domain.report_due(
                policy,
                tenant=timer.tenant,
                kind=kind,
                due=due,
                rule=rule,
                now=self.clock.now(),
                endpoint=entry["code"],
                unit=entry["unit"],
            )
        ]

    async def on_meeting_record(self, timer: Timer) -> list[Event]:
        meeting_id, revision = timer.payload["meeting_id"], timer.payload["revision"]
        history = await self.store.history(timer.tenant, meeting_id)
        current = history.current
        if current is None or current["revision"] != revision:
            return []  # cancelled, or moved: the newer revision has its own timer
        policy = self.policy_for(timer.tenant)
        return [
            domain.report_due(
                policy,
                tenant=timer.tenant,
                kind=ReportKind.MEETING_RECORD,
                due=domain.meeting_record(policy, current["start"], current["end"]),
                rule="meeting_record.due_after",
                now=self.clock.now(),
                unit=current["host_unit"],
                meeting_id=meeting_id,
            )
        ]

    def timer_handlers(self) -> dict[str, TimerHandler]:
        return {
            ANNUAL: self.on_annual,
            INSPECTION: self.on_inspection,
            RECORD: self.on_meeting_record,
            UNKNOWN_ENDPOINT: self.on_grace_over,
        }


def build_handlers(scheduler: Scheduler) -> dict[type, Handler]:
    async def on_requested(event: MeetingRequested, _: RawMessage) -> None:
        await scheduler.decide(event)

    async def on_changed(event: MeetingChanged, _: RawMessage) -> None:
        await scheduler.decide(event)

    async def on_cancelled(event: MeetingCancelled, _: RawMessage) -> None:
        await scheduler.cancel(event)

    async def on_endpoint(event: EndpointUpdated, _: RawMessage) -> None:
        await scheduler.on_endpoint(event)

    async def on_unit(event: UnitUpdated, _: RawMessage) -> None:
        await scheduler.on_unit(event)

    return {
        MeetingRequested: on_requested,
        MeetingChanged: on_changed,
        MeetingCancelled: on_cancelled,
        EndpointUpdated: on_endpoint,
        UnitUpdated: on_unit,
    }
