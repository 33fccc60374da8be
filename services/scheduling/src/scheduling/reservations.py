"""Claiming a slot and searching for free windows: the store reads and inserts a decision
makes, in the order that keeps them few. Nothing here writes a decision; `usecases` does.

A slot is every endpoint bucket of the reserved window plus enough ports on one bridge.
Endpoints are claimed first (on a crowded calendar most requests fail there), then ports,
the ones a meeting would try first blind, the rest of a bucket read in one walk.
Endpoints this replica's picture of the calendar (`unclaimed`) shows free are claimed blind
too, so a request that fits costs inserts and no read; the inserts stay the judge.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from hnth_contracts import Conflict, Window
from hnth_contracts.policy import Bridge, Policy
from hnth_kit.mongo import Document
from scheduling import domain
from scheduling.domain import Holder, Occupancy, Request, Share, cascade
from scheduling.store import Attempt, KeyState, endpoint_key, holder_of, port_key

READ_AHEAD = 16
"""Alternative windows whose endpoints are read in one walk (a bucket apart, they share
most buckets; the read budget may be overrun by one such walk)."""


class Claims(Protocol):
    """The store's claim chains, as the slot search uses them."""

    async def states(
        self, keys: Iterable[str], since: Mapping[str, int] | None = None
    ) -> dict[str, KeyState]: ...

    def unclaimed(self, keys: Iterable[str]) -> dict[str, int] | None: ...

    def seen_taken(self, key: str, besides: str | None = None) -> bool: ...

    async def claim(
        self, attempt: Attempt, wanted: Mapping[str, int], fields: Mapping[str, Document]
    ) -> dict[str, KeyState]: ...

    async def transfer(self, attempt: Attempt, claim_ids: Iterable[str]) -> None: ...


def in_the_way(request: Request, attempt: Attempt, held: Iterable[str]) -> list[str]:
    """The claims of `held` (a meeting being displaced) the request may need: those of its
    endpoints, and every bridge's ports, in the buckets it reserves (what `reserve` may
    claim; the rest of the displaced slot is simply released)."""
    spans = domain.buckets(attempt.reserved)
    rooms = {endpoint_key(request.tenant, room, b) for room in request.rooms for b in spans}
    wanted = []
    for claim_id in held:
        key = claim_id.rpartition("#")[0]
        _, kind, _, bucket, *_ = key.split("|")
        if key in rooms or (kind == "port" and int(bucket) in spans):
            wanted.append(claim_id)
    return wanted


class Slots:
    """Claims a request's slot, or finds who stands in its way and the nearest free windows."""

    def __init__(self, store: Claims) -> None:
        self.store = store

    async def reserve(
        self, request: Request, policy: Policy, attempt: Attempt, current: Document | None
    ) -> tuple[list[Share] | None, list[Conflict]]:
        """Claim every endpoint bucket, then enough ports on one bridge, or (where the
        province cascades and no bridge has room alone) each bridge's share of a cascade.
        On failure, the conflicts name every busy endpoint's meeting AND, when no bridge
        has room either, the meetings holding its ports: a host learns all that stands in
        the way. On success, the shares (one when one bridge holds the meeting)."""
        spans = domain.buckets(attempt.reserved)
        rooms = {
            endpoint_key(request.tenant, room, b): (room, b)
            for room in request.rooms
            for b in spans
        }
        busy: list[tuple[str, Holder]] = []
        # the common case (a free calendar, as far as this replica knows): claim with no read
        gens = self.store.unclaimed(rooms)
        if gens is None:
            states = await self.store.states(rooms)
            busy = [
                (rooms[k][0], holder_of(s.holder))
                for k, s in states.items()
                if s.holder is not None and s.holder["meeting_id"] != request.meeting_id
            ]
            for state in [] if busy else states.values():
                if state.holder is not None:
                    attempt.adopt(state)
            gens = {k: s.gen for k, s in states.items() if s.holder is None}
        if not busy:
            others = await self.store.claim(
                attempt,
                gens,
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
        bridge, conflicts = await self._first_bridge(
            request, policy, bridges, lambda b: self._claim_ports(request, attempt, b, spans)
        )
        if bridge is not None:
            return [Share(bridge.name, request.rooms)], []
        if not cascade.allowed(policy) or len(bridges) < 2:
            return None, conflicts
        return await self._cascade(request, policy, attempt, bridges, spans, conflicts)

    async def _cascade(
        self,
        request: Request,
        policy: Policy,
        attempt: Attempt,
        bridges: Sequence[Bridge],
        spans: range,
        conflicts: list[Conflict],
    ) -> tuple[list[Share] | None, list[Conflict]]:
        """No bridge has room alone: read every bridge's free ports (its fewest over the
        buckets), plan the cascade, and claim each share's ports on its bridge, the same
        per-(bridge, bucket) port claims as one bridge's, so replicas cannot double-book."""
        free: list[tuple[Bridge, int]] = []
        for bridge in bridges:
            counted, _, _ = await self._free_ports(request, bridge, spans, need=bridge.ports)
            free.append((bridge, min(counted.values())))
        shares = domain.cascade_plan(
            request.rooms, request.main_endpoint, [(b.name, f) for b, f in free]
        )
        if shares is None:
            return None, [*conflicts, cascade.too_big(policy, request.ports, free)]
        by_name = {b.name: b for b in bridges}
        for share in shares:
            bridge = by_name[share.bridge]
            holders = await self._claim_ports(request, attempt, bridge, spans, need=share.ports)
            if holders is not None:  # taken meanwhile: the claims made are released
                return None, domain.capacity_conflicts(bridge, holders, policy)
        return shares, []

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
        self,
        request: Request,
        attempt: Attempt,
        bridge: Bridge,
        spans: range,
        need: int | None = None,
    ) -> list[Holder] | None:
        """Claim `need` (all the meeting's: `request.ports`) port tokens on `bridge` in
        every bucket. Returns None on success; else the meetings holding the ports of the
        buckets that ran out.

        The ports it would try first are claimed blind (on a quiet calendar that is all).
        Where that comes back short, the rest of the bucket is read in one go and only the
        ports that read free are claimed, the next ones in turn where one was taken
        meanwhile: the inserts decide, the read only spares inserts bound to fail."""
        held_before = len(attempt.held)
        need = request.ports if need is None else need
        have = dict.fromkeys(spans, 0)
        holders: dict[int, list[Holder]] = {b: [] for b in spans}
        order = {b: self._free_first(request, bridge, b) for b in spans}
        # (port, generation) still to try, per bucket
        left: dict[int, list[tuple[int, int]]] = {
            b: [(n, 0) for n in order[b][:need]] for b in spans
        }
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
            read = await self._read_ports(request, bridge, {b: order[b][need:] for b in short})
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

    def _free_first(self, request: Request, bridge: Bridge, bucket: int) -> list[int]:
        """The meeting's port order on `bridge`, with the ports this replica has seen other
        meetings hold in `bucket` moved last: the blind claims then rarely hit a taken
        port, and the rest of the bucket is seldom read (the claims still decide; the
        picture is a hint). The meeting's own stay in place, so that an earlier try's are
        found and adopted, not left behind."""
        seen, meeting = self.store.seen_taken, request.meeting_id
        order = domain.port_order(meeting, bridge.ports)
        key = functools.partial(port_key, request.tenant, bridge.name, bucket)
        return sorted(order, key=lambda n: seen(key(n), besides=meeting))

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
        self, request: Request, bridge: Bridge, spans: Sequence[int], need: int | None = None
    ) -> tuple[dict[int, int], dict[int, list[Holder]], int]:
        """Free ports (or the meeting's own) of `bridge` in each bucket, the meetings
        holding the others, and how many ports were read. Two reads at most: the `need`
        ports it would try first (default `request.ports`), then all the rest of the
        buckets still short (read whole, so the alternatives search knows them exactly for
        every window that shares them)."""
        need = request.ports if need is None else need
        order = domain.port_order(request.meeting_id, bridge.ports)
        free = dict.fromkeys(spans, 0)
        holders: dict[int, list[Holder]] = {b: [] for b in spans}
        batch = {b: order[:need] for b in spans}
        read = 0
        for _ in range(2):
            for b, states in (await self._read_ports(request, bridge, batch)).items():
                for _n, state in states:
                    if state.holder is None or state.holder["meeting_id"] == request.meeting_id:
                        free[b] += 1
                    else:
                        holders[b].append(holder_of(state.holder))
            read += sum(len(ports) for ports in batch.values())
            batch = {b: order[need:] for b in spans if free[b] < need}
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

    async def alternatives(
        self,
        request: Request,
        policy: Policy,
        now: datetime,
        reads: int,
        avoid: Window | None = None,
    ) -> list[Window]:
        """Up to 3 nearest windows of the same length where every endpoint and enough
        ports on one bridge (or the bridges cascaded, where the province cascades) are
        free, none overlapping another (`distinct`), read lazily, READ_AHEAD windows'
        endpoints at a time, within a bounded number of reads; windows this replica knows
        busy cost no read."""
        cascaded = cascade.allowed(policy) and len(policy.all_bridges) > 1
        bridges = [b for b in policy.all_bridges if cascaded or b.ports >= request.ports]
        if not bridges:
            return []
        occupancy = Occupancy()
        budget = [reads]
        found: list[Window] = []

        def unseen() -> Iterator[tuple[Window, Window]]:
            """The candidates and their reserved windows, but those where this replica saw
            one of the endpoints held: passed over unread (a hint: one released elsewhere
            meanwhile is not offered; those offered are read free, as before)."""
            for candidate in domain.alternative_candidates(request, policy, now, avoid):
                reserved = domain.reserved_window(candidate.start, candidate.end, policy)
                if not self._seen_busy(request, reserved):
                    yield candidate, reserved

        windows = unseen()
        ahead: list[tuple[Window, Window]] = []
        while budget[0] > 0:
            if not ahead:
                ahead = list(itertools.islice(windows, READ_AHEAD))
                if not ahead:
                    break
                await self._load_endpoints(request, [w for _, w in ahead], occupancy, budget)
            candidate, reserved = ahead.pop(0)
            if not domain.distinct(candidate, found):
                continue
            await self._load_ports(request, reserved, bridges, occupancy, budget, cascaded)
            if domain.is_free(request, reserved, occupancy, bridges, cascaded=cascaded):
                found.append(candidate)
                if len(found) == domain.ALTERNATIVES:
                    break
        return found

    def _seen_busy(self, request: Request, reserved: Window) -> bool:
        """Whether this replica has seen one of the meeting's endpoints held by another
        meeting in the window (from memory, no read)."""
        seen = self.store.seen_taken
        return any(
            seen(endpoint_key(request.tenant, room, b), besides=request.meeting_id)
            for b in domain.buckets(reserved)
            for room in request.rooms
        )

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
        cascaded: bool = False,
    ) -> None:
        """The bridges' free ports in the window, once its endpoints are known free (every
        bridge's, `cascaded`: the bridges may share the meeting)."""
        spans = domain.buckets(reserved)
        if any(
            h is not None and h.meeting_id != request.meeting_id
            for h in (occupancy.endpoints[(r, b)] for r in request.rooms for b in spans)
        ):
            return  # an endpoint is busy: no need to read the ports
        for bridge in bridges:
            known = [occupancy.free_ports.get((bridge.name, b)) for b in spans]
            if not cascaded and any(free is not None and free < request.ports for free in known):
                continue  # a bucket already read short: no room on this bridge
            missing = [b for b in spans if (bridge.name, b) not in occupancy.free_ports]
            if missing:
                free, _, read = await self._free_ports(request, bridge, missing)
                budget[0] -= read
                for b in missing:
                    occupancy.free_ports[(bridge.name, b)] = min(free[b], request.ports)
            if all(occupancy.free_ports[(bridge.name, b)] >= request.ports for b in spans):
                return  # one bridge with room is enough
