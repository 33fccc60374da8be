"""Free windows: where a meeting of a given length fits, all its endpoints and one bridge
free, the province's rules kept. Pure: the reservations in range are read by the caller.

A candidate meeting starts on a bucket edge (every 15 minutes). It is offered when:
- it starts at least the notice lead time (`notice.lead_time`) after `now`, so nobody
  needs an urgent reason (who may give one is registration's concern);
- it lies inside the working hours, when the province's policy has them
  (`meeting.working_hours`: `{days: [1..7, ISO weekdays], from: "07:30", to: "17:00"}`,
  in the province's zone);
- its reserved window (the meeting widened by `slot.setup_buffer` and
  `slot.teardown_buffer`, as `buckets.reserved_window` says) finds every endpoint free and
  one bridge with a port per endpoint free (`alternatives.is_free`, the test a rejection's
  alternatives pass); or, where no one bridge has the ports and the province cascades
  (`bridge.cascade`), the bridges together, cascaded: such a window says `cascade` and
  names the bridge that would host (the one with most free ports, as the decision picks).

A meeting is offered within one local day (none runs past midnight). Consecutive
candidates on the same bridge, cascaded or not, and the same local day merge into one window:
`start` is the earliest start, `end` the latest end, so a meeting of that length fits
anywhere between them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hnth_contracts import Window
from hnth_contracts.policy import Bridge, Policy
from hnth_contracts.rules import Breach, time_breaches, zone
from scheduling.domain import cascade
from scheduling.domain.alternatives import is_free
from scheduling.domain.buckets import BUCKET, EPOCH, buckets, reserved_window
from scheduling.domain.conflicts import Holder, Occupancy
from scheduling.domain.hours import WorkingHours, within_hours, working_hours
from scheduling.domain.requests import Request

MAX_RANGE = timedelta(days=14)
"""The longest range one question may cover (14 days of 15-minute candidates)."""
MAX_WINDOWS = 200
"""At most this many windows in one answer (the rest: ask for a later range)."""
LENGTH_RULES = ("meeting.min_duration", "meeting.max_duration")


@dataclass(frozen=True)
class FreeWindow:
    """A meeting of the asked length fits anywhere from `start` to `end`, on `bridge`;
    `cascade`: only cascaded over several bridges, `bridge` hosting."""

    start: datetime
    end: datetime
    bridge: str
    cascade: bool = False


def same_day(start: datetime, end: datetime, tz: ZoneInfo) -> bool:
    """The meeting ends on the local day it starts (at midnight at the latest)."""
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    return start.astimezone(tz).date() == last


def length_breaches(length: timedelta, policy: Policy) -> list[Breach]:
    """The province's bounds on a meeting's length that `length` breaks (as registration
    and scheduling word them), asked of a meeting far enough ahead to break nothing else."""
    now = EPOCH
    start = now + policy.duration("notice.lead_time") + timedelta(days=1)
    return [
        b
        for b in time_breaches(start, start + length, policy, now=now, urgent_reason=None)
        if b.rule in LENGTH_RULES
    ]


def earliest_start(policy: Policy, now: datetime) -> datetime:
    """The first bucket edge a meeting may start at without an urgent reason."""
    return _edge(now + policy.duration("notice.lead_time"))


def reserved_span(span: Window, policy: Policy) -> Window:
    """What to read for candidates inside `span`: it widened by the buffers."""
    return reserved_window(span.start, span.end, policy)


def occupancy_of(
    claims: Iterable[Mapping[str, Any]], bridges: Sequence[Bridge], spans: range
) -> Occupancy:
    """The occupancy the live claims leave: who holds each endpoint bucket, and each
    bridge's free ports in every bucket of `spans` (its ports less the claimed ones)."""
    occupancy = Occupancy()
    taken: dict[tuple[str, int], int] = {}
    for claim in claims:
        key = (str(claim["resource"]), int(claim["bucket"]))
        if claim["kind"] == "endpoint":
            occupancy.endpoints[key] = Holder(
                meeting_id=claim["meeting_id"],
                revision=claim["revision"],
                meeting=Window(start=claim["start"], end=claim["end"]),
            )
        else:
            taken[key] = taken.get(key, 0) + 1
    for bridge in bridges:
        for b in spans:
            occupancy.free_ports[(bridge.name, b)] = bridge.ports - taken.get((bridge.name, b), 0)
    return occupancy


def held_times(claims: Iterable[Mapping[str, Any]], span: Window) -> list[tuple[str, Window]]:
    """Each endpoint's meetings overlapping `span`, as (endpoint, the meeting's own times),
    once per meeting, in endpoint and time order: the endpoint claims among `claims`."""
    found: dict[tuple[str, str], Window] = {}
    for claim in claims:
        if claim["kind"] != "endpoint":
            continue
        meeting = Window(start=claim["start"], end=claim["end"])
        if meeting.end > span.start and meeting.start < span.end:
            found[(str(claim["resource"]), str(claim["meeting_id"]))] = meeting
    return sorted(((room, w) for (room, _), w in found.items()), key=lambda f: (f[0], f[1].start))


def free_windows(
    tenant: str,
    rooms: Sequence[str],
    length: timedelta,
    span: Window,
    policy: Policy,
    now: datetime,
    occupancy: Occupancy,
    limit: int = MAX_WINDOWS,
    preferred: WorkingHours | None = None,
) -> tuple[list[FreeWindow], bool]:
    """The windows inside `span` where a meeting of `length` on `rooms` may be booked, and
    whether more were left out past `limit`. `preferred`: the hours the person searches
    within (office hours, weekdays), on top of the province's own working hours."""
    tz = zone(policy)
    hours = [h for h in (working_hours(policy), preferred) if h is not None]
    rooms = tuple(sorted(set(rooms)))
    bridges = searched_bridges(policy, len(rooms))
    found: list[FreeWindow] = []
    run: tuple[datetime, datetime, Place, date] | None = None  # first, last start, where, day
    start = max(earliest_start(policy, now), _edge(span.start))
    while start + length <= span.end and len(found) <= limit:
        place = _place_for(tenant, rooms, start, length, policy, occupancy, bridges, hours, tz)
        day = start.astimezone(tz).date()
        if place is not None and run is not None and (run[2], run[3]) == (place, day):
            run = (run[0], start, place, day)
        else:
            if run is not None:
                found.append(FreeWindow(run[0], run[1] + length, *run[2]))
            run = None if place is None else (start, start, place, day)
        start += BUCKET
    if run is not None:
        found.append(FreeWindow(run[0], run[1] + length, *run[2]))
    return found[:limit], len(found) > limit


Place = tuple[str, bool]
"""Where a candidate fits: the (hosting) bridge, and whether only cascaded."""


def searched_bridges(policy: Policy, rooms: int) -> list[Bridge]:
    """The bridges a meeting on `rooms` endpoints may use: those with the ports, or every
    bridge when the province cascades (a cascade may span any of them)."""
    if cascade.allowed(policy) and len(policy.all_bridges) > 1:
        return list(policy.all_bridges)
    return [b for b in policy.all_bridges if b.ports >= rooms]


def most_endpoints(policy: Policy) -> tuple[int, str]:
    """The most endpoints one meeting may have on the province's bridges (cascaded where
    the province cascades) and the rule that says so."""
    ports = [b.ports for b in policy.all_bridges]
    if cascade.allowed(policy) and len(ports) > 1:
        return cascade.capacity(ports), cascade.CASCADE
    return max(ports), "bridge.ports"


def _edge(moment: datetime) -> datetime:
    """`moment` rounded up to a bucket edge."""
    return EPOCH + -((EPOCH - moment) // BUCKET) * BUCKET


def _place_for(
    tenant: str,
    rooms: tuple[str, ...],
    start: datetime,
    length: timedelta,
    policy: Policy,
    occupancy: Occupancy,
    bridges: Sequence[Bridge],
    hours: Sequence[WorkingHours],
    tz: ZoneInfo,
) -> Place | None:
    """The first bridge a meeting from `start` fits on; else, where the province cascades,
    the bridge hosting a cascade that holds it; None when it does not fit."""
    end = start + length
    if not all(within_hours(start, end, h, tz) for h in hours):
        return None
    if not same_day(start, end, tz):
        return None
    request = Request(
        tenant=tenant,
        meeting_id="",
        revision=0,
        title="",
        host_unit="",
        main_endpoint=rooms[0],
        endpoints=rooms,
        start=start,
        end=end,
    )
    reserved = reserved_window(start, end, policy)
    for bridge in bridges:
        if bridge.ports >= len(rooms) and is_free(request, reserved, occupancy, [bridge]):
            return bridge.name, False
    if len(bridges) < 2 or not cascade.allowed(policy):
        return None
    if not is_free(request, reserved, occupancy, bridges, cascaded=True):
        return None
    spans = buckets(reserved)
    free = [min(occupancy.free_ports.get((b.name, n), 0) for n in spans) for b in bridges]
    return bridges[free.index(max(free))].name, True


def spans_of(span: Window, policy: Policy) -> range:
    """The buckets whose occupancy candidates inside `span` may look at."""
    return buckets(reserved_span(span, policy))
