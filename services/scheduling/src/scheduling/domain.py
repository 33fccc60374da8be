"""Scheduling's rules, pure: requests in, decisions and due dates out. No I/O, `now` is given.

Time is cut into buckets of `BUCKET` (15 minutes, counted from the Unix epoch in UTC). A
meeting occupies each of its endpoints, and one bridge port per endpoint, in every bucket
its reserved window (meeting widened by the setup and teardown buffers) touches: windows
are rounded OUTWARD to bucket edges, so two meetings whose reserved windows come within
the same 15 minutes conflict even if they do not strictly overlap (conservative, never
the other way round). The store turns each (resource, bucket) into a unique claim.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hnth_contracts import (
    Conflict,
    ConflictKind,
    Event,
    MeetingChanged,
    MeetingRequested,
    ReportDue,
    ReportKind,
    RuleRef,
    Slot,
    SlotAssigned,
    SlotRejected,
    SlotReleased,
    Window,
)
from hnth_contracts.policy import Bridge, Policy, describe

PRODUCER = "scheduling"
BUCKET = timedelta(minutes=15)
"""Reservation granularity: small enough for real agendas, coarse enough to keep claims few."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ALTERNATIVES = 3
ALTERNATIVE_HORIZON = timedelta(days=2)
"""How far before and after the requested start alternatives are looked for."""

# ---------------------------------------------------------------- policy access


def duration(policy: Policy, rule: str) -> timedelta:
    """The policy's duration, or the documented default when the province has none."""
    return policy.duration(rule)


def ref(policy: Policy, rule: str) -> RuleRef:
    """The rule and its source (a platform invariant or a default where the policy has none)."""
    return policy.ref(rule)


def capacity_ref(bridge: Bridge) -> RuleRef:
    return RuleRef(rule="bridge.ports", source=bridge.source)


# ---------------------------------------------------------------- requests and buckets


@dataclass(frozen=True)
class Request:
    """A meeting request or change, as scheduling sees it (revision 0 = the request)."""

    tenant: str
    meeting_id: str
    revision: int
    title: str
    host_unit: str
    main_endpoint: str
    endpoints: tuple[str, ...]
    start: datetime
    end: datetime
    late_notice: bool = False
    urgent_reason: str | None = None
    requested_at: datetime | None = None
    """When the request (or change) was made: the notice lead counts from there."""

    @property
    def rooms(self) -> tuple[str, ...]:
        """Every endpoint the meeting occupies (the main one included), each once, sorted."""
        return tuple(sorted({*self.endpoints, self.main_endpoint}))

    @property
    def ports(self) -> int:
        """Bridge ports needed: one per connected endpoint."""
        return len(self.rooms)

    @property
    def length(self) -> timedelta:
        return self.end - self.start


def request_of(event: MeetingRequested | MeetingChanged) -> Request:
    return Request(
        tenant=event.tenant,
        meeting_id=event.meeting_id,
        revision=event.revision if isinstance(event, MeetingChanged) else 0,
        title=event.title,
        host_unit=event.host_unit,
        main_endpoint=event.main_endpoint,
        endpoints=event.endpoints,
        start=event.start,
        end=event.end,
        late_notice=event.late_notice,
        urgent_reason=event.urgent_reason,
        requested_at=event.occurred_at,
    )


def reserved_window(start: datetime, end: datetime, policy: Policy) -> Window:
    """The meeting widened by the setup (T-1h checks) and teardown buffers."""
    return Window(
        start=start - duration(policy, "slot.setup_buffer"),
        end=end + duration(policy, "slot.teardown_buffer"),
    )


def bucket_of(moment: datetime) -> int:
    return (moment - EPOCH) // BUCKET


def bucket_start(bucket: int) -> datetime:
    return EPOCH + bucket * BUCKET


def buckets(window: Window) -> range:
    """The buckets a window touches, rounded outward (start down, end up)."""
    first = bucket_of(window.start)
    last = -((EPOCH - window.end) // BUCKET)  # ceiling division
    return range(first, last)


def port_order(meeting_id: str, ports: int) -> list[int]:
    """The order a meeting tries port numbers in: a stable per-meeting rotation, so
    concurrent meetings rarely race for the same port token."""
    offset = int.from_bytes(hashlib.sha256(meeting_id.encode()).digest()[:4], "big") % ports
    return [(offset + n) % ports for n in range(ports)]


# ---------------------------------------------------------------- validation

Directory = Mapping[str, bool | None]
"""Code -> active (True), inactive (False) or unknown (None), as scheduling's copy knows it."""
UNIT = "unit:"
"""Prefix telling a unit code from an endpoint code where both are listed (parked requests)."""


def asked_at(request: Request, now: datetime) -> datetime:
    """When the notice period started: the request's own time, never later than `now`
    (a request waiting in the topic or for the directory is not made later by waiting)."""
    return min(request.requested_at or now, now)


def is_late(request: Request, policy: Policy, now: datetime) -> bool:
    """Inside the notice lead time (rule 2): written notices cannot go out in time."""
    return request.start - asked_at(request, now) < duration(policy, "notice.lead_time")


def policy_violations(
    request: Request,
    policy: Policy,
    directory: Directory | None,
    now: datetime,
    units: Directory | None = None,
) -> list[Conflict]:
    """Rules a request breaks before any resource is looked at.

    `directory` maps each endpoint to active/inactive, None when unknown; `None` as a
    whole when the directory has no entry for the province yet (nothing to check);
    `units` likewise for the host unit.
    """
    found = _time_violations(request, policy, now)
    if units is not None and units.get(request.host_unit) is not True:
        known = units.get(request.host_unit) is not None
        vi, en = _missing(known)
        found.append(
            _policy(
                policy,
                "directory.unit_active",
                request.host_unit,
                f"Đơn vị {request.host_unit} {vi}",
                f"Unit {request.host_unit} is {en}",
            )
        )
    for room in request.rooms if directory is not None else ():
        state = directory.get(room) if directory is not None else None
        if state is not True:
            vi, en = _missing(state is not None)
            found.append(
                _policy(
                    policy,
                    "directory.endpoint_active",
                    room,
                    f"Điểm cầu {room} {vi}",
                    f"Endpoint {room} is {en}",
                )
            )
    largest = max(policy.all_bridges, key=lambda b: b.ports)
    if request.ports > largest.ports:
        found.append(too_small(largest, request.ports))
    return found


def _time_violations(request: Request, policy: Policy, now: datetime) -> list[Conflict]:
    meeting = request.meeting_id
    if request.end <= request.start:
        return [
            _policy(
                policy,
                "meeting.start_before_end",
                meeting,
                "Thời gian kết thúc phải sau thời gian bắt đầu",
                "The end must be after the start",
            )
        ]
    if request.start <= now:
        when = local_text(request.start, policy)
        return [
            _policy(
                policy,
                "meeting.not_in_past",
                meeting,
                f"Cuộc họp đã bắt đầu lúc {when}",
                f"The meeting already started at {when}",
            )
        ]
    found: list[Conflict] = []
    if "meeting.min_duration" in policy.rules:
        least = policy.duration("meeting.min_duration")
        if request.length < least:
            found.append(
                _policy(
                    policy,
                    "meeting.min_duration",
                    meeting,
                    f"Cuộc họp ngắn hơn mức tối thiểu {describe(least)}",
                    f"The meeting is shorter than the minimum {describe(least, english=True)}",
                )
            )
    if "meeting.max_duration" in policy.rules:
        most = policy.duration("meeting.max_duration")
        if request.length > most:
            found.append(
                _policy(
                    policy,
                    "meeting.max_duration",
                    meeting,
                    f"Cuộc họp dài hơn mức tối đa {describe(most)}",
                    f"The meeting is longer than the maximum {describe(most, english=True)}",
                )
            )
    if is_late(request, policy, now) and not request.urgent_reason:
        lead = duration(policy, "notice.lead_time")
        found.append(
            _policy(
                policy,
                "notice.lead_time",
                meeting,
                f"Cuộc họp phải được đăng ký trước ít nhất {describe(lead)} để thông báo bằng "
                "văn bản; họp khẩn phải nêu lý do (urgent_reason)",
                f"Meetings must be requested at least {describe(lead, english=True)} ahead for "
                "the written notices; an urgent meeting must give its reason (urgent_reason)",
            )
        )
    return found


def _missing(known: bool) -> tuple[str, str]:
    if known:
        return "đang ngừng hoạt động", "inactive"
    return "không xác định: không có trong danh bạ", "unknown: not in the directory"


def unknown_endpoints(request: Request, directory: Directory | None) -> tuple[str, ...]:
    """Endpoints of the request the directory has never heard of (sorted): the directory
    arrives on its own topic, so they may simply not be here YET."""
    if directory is None:
        return ()
    return tuple(room for room in request.rooms if directory.get(room) is None)


def unknown_codes(
    request: Request, directory: Directory | None, units: Directory | None
) -> tuple[str, ...]:
    """What the request waits for: unknown endpoints, and the host unit (as `unit:<code>`)
    when the unit directory knows the province but not this unit."""
    unit = () if units is None or units.get(request.host_unit) is not None else (request.host_unit,)
    return (*unknown_endpoints(request, directory), *(UNIT + code for code in unit))


def must_wait(
    request: Request,
    directory: Directory | None,
    parked_at: datetime | None,
    policy: Policy,
    now: datetime,
    units: Directory | None = None,
) -> bool:
    """Wait for unknown endpoints (and host unit) while the grace period since the request
    was first parked (`parked_at`, None = not parked yet) lasts; after it they are rejected."""
    if not unknown_codes(request, directory, units):
        return False
    return parked_at is None or now < grace_ends(parked_at, policy)


def grace_ends(parked_at: datetime, policy: Policy) -> datetime:
    return parked_at + duration(policy, "directory.unknown_endpoint_grace")


def _policy(policy: Policy, rule: str, resource: str, vi: str, en: str) -> Conflict:
    return Conflict(
        kind=ConflictKind.POLICY,
        resource=resource,
        rule=ref(policy, rule),
        message=vi,
        message_en=en,
    )


# ---------------------------------------------------------------- occupancy and conflicts

NAMED_HOLDERS = 10
"""At most this many meetings holding a full bridge's ports are named in a rejection."""


@dataclass(frozen=True)
class Holder:
    """The meeting holding a resource in a bucket."""

    meeting_id: str
    revision: int
    meeting: Window


@dataclass
class Occupancy:
    """What the store has read so far: who holds which endpoint bucket, and how many
    ports each bridge still has free in a bucket (for the meeting being decided)."""

    endpoints: dict[tuple[str, int], Holder | None] = field(default_factory=dict)
    free_ports: dict[tuple[str, int], int] = field(default_factory=dict)


def _span(holder: Holder, policy: Policy) -> str:
    return f"{local_text(holder.meeting.start, policy)} - {local_text(holder.meeting.end, policy)}"


def endpoint_conflicts(
    request: Request, busy: Iterable[tuple[str, Holder]], policy: Policy
) -> list[Conflict]:
    """One conflict per (endpoint, other meeting), in endpoint order, citing the rule
    "one meeting per endpoint at a time"."""
    seen: dict[tuple[str, str], Conflict] = {}
    for room, holder in sorted(busy, key=lambda item: (item[0], item[1].meeting.start)):
        if holder.meeting_id == request.meeting_id or (room, holder.meeting_id) in seen:
            continue
        when = _span(holder, policy)
        seen[(room, holder.meeting_id)] = Conflict(
            kind=ConflictKind.ENDPOINT_BUSY,
            resource=room,
            other_meeting_id=holder.meeting_id,
            other_window=holder.meeting,
            rule=ref(policy, "slot.endpoint_exclusive"),
            message=f"Điểm cầu {room} đã được xếp cho cuộc họp {holder.meeting_id} ({when})",
            message_en=f"Endpoint {room} is already booked for meeting {holder.meeting_id} "
            f"({when})",
        )
    return list(seen.values())


def too_small(bridge: Bridge, ports: int) -> Conflict:
    """The bridge has fewer ports than the meeting has endpoints, even when empty."""
    return Conflict(
        kind=ConflictKind.BRIDGE_CAPACITY,
        resource=bridge.name,
        rule=capacity_ref(bridge),
        message=f"Cần {ports} cổng, cầu {bridge.name} chỉ có {bridge.ports} cổng",
        message_en=f"{ports} ports are needed, bridge {bridge.name} has only {bridge.ports}",
    )


def capacity_conflicts(bridge: Bridge, holders: Iterable[Holder], policy: Policy) -> list[Conflict]:
    """The bridge has too few free ports: one conflict per meeting holding its ports there
    (earliest first, at most NAMED_HOLDERS), or one naming nobody if none was seen."""
    distinct = {
        h.meeting_id: h for h in sorted(holders, key=lambda h: (h.meeting.start, h.meeting_id))
    }
    named = list(distinct.values())[:NAMED_HOLDERS]
    full = f"Cầu {bridge.name} ({bridge.ports} cổng) không đủ cổng trống"
    full_en = f"Bridge {bridge.name} ({bridge.ports} ports) has too few free ports"
    if not named:
        return [
            Conflict(
                kind=ConflictKind.BRIDGE_CAPACITY,
                resource=bridge.name,
                rule=capacity_ref(bridge),
                message=full,
                message_en=full_en,
            )
        ]
    return [
        Conflict(
            kind=ConflictKind.BRIDGE_CAPACITY,
            resource=bridge.name,
            other_meeting_id=h.meeting_id,
            other_window=h.meeting,
            rule=capacity_ref(bridge),
            message=f"{full}: cuộc họp {h.meeting_id} đang giữ cổng ({_span(h, policy)})",
            message_en=f"{full_en}: meeting {h.meeting_id} holds ports ({_span(h, policy)})",
        )
        for h in named
    ]


def bridges_in_order(policy: Policy, preferred: str | None) -> list[Bridge]:
    """The meeting's current bridge first (a change keeps its room when it can)."""
    bridges = list(policy.all_bridges)
    return sorted(bridges, key=lambda b: b.name != preferred)


def is_free(
    request: Request, window: Window, occupancy: Occupancy, bridges: Sequence[Bridge]
) -> bool:
    """Every endpoint free (or held by this meeting) and one bridge with enough free
    ports in every bucket of the reserved `window`, as far as `occupancy` knows."""
    spans = buckets(window)
    for room in request.rooms:
        for bucket in spans:
            holder = occupancy.endpoints.get((room, bucket))
            if holder is not None and holder.meeting_id != request.meeting_id:
                return False
    return any(
        all(occupancy.free_ports.get((b.name, bucket), 0) >= request.ports for bucket in spans)
        for b in bridges
    )


def alternative_candidates(request: Request, policy: Policy, now: datetime) -> list[Window]:
    """Meeting windows of the same length, a bucket apart, nearest to the request first
    (earlier before later on a tie), none whose reserved window starts before `now`."""
    steps = ALTERNATIVE_HORIZON // BUCKET
    setup = duration(policy, "slot.setup_buffer")
    out: list[Window] = []
    for n in range(1, steps + 1):
        for shift in (-n * BUCKET, n * BUCKET):
            start = request.start + shift
            if start - setup >= now:
                out.append(Window(start=start, end=start + request.length))
    return out


# ---------------------------------------------------------------- decisions


def assign(
    request: Request, policy: Policy, bridge: Bridge, cause: Event, now: datetime
) -> SlotAssigned:
    room = f"VR-{request.meeting_id}"
    return SlotAssigned.create(
        cause=cause,
        occurred_at=now,
        producer=PRODUCER,
        meeting_id=request.meeting_id,
        revision=request.revision,
        title=request.title,
        host_unit=request.host_unit,
        main_endpoint=request.main_endpoint,
        endpoints=request.endpoints,
        slot=Slot(
            bridge=bridge.name,
            virtual_room=room,
            dial_in=bridge.dial_in.format(room=room),
            meeting=Window(start=request.start, end=request.end),
            reserved=reserved_window(request.start, request.end, policy),
        ),
        check_deadline=request.start - duration(policy, "check.lead_time"),
        notice_deadline=request.start - duration(policy, "notice.lead_time"),
        # another publisher may not flag it: inside the lead time is late, whoever says so
        late_notice=request.late_notice or is_late(request, policy, now),
        rules=(
            ref(policy, "slot.endpoint_exclusive"),
            ref(policy, "slot.setup_buffer"),
            ref(policy, "slot.teardown_buffer"),
            capacity_ref(bridge),
            ref(policy, "check.lead_time"),
            ref(policy, "notice.lead_time"),
        ),
        policy=policy.id,
    )


def reject(
    request: Request,
    conflicts: Sequence[Conflict],
    alternatives: Sequence[Window],
    cause: Event,
    now: datetime,
) -> SlotRejected:
    return SlotRejected.create(
        cause=cause,
        occurred_at=now,
        producer=PRODUCER,
        meeting_id=request.meeting_id,
        revision=request.revision,
        host_unit=request.host_unit,
        title=request.title,
        conflicts=tuple(conflicts),
        alternatives=tuple(alternatives[:ALTERNATIVES]),
    )


def release(
    meeting_id: str, revision: int, reason: str, cause: Event, now: datetime
) -> SlotReleased:
    return SlotReleased.create(
        cause=cause,
        occurred_at=now,
        producer=PRODUCER,
        meeting_id=meeting_id,
        revision=revision,
        reason=reason,
    )


# ---------------------------------------------------------------- the calendar: ReportDue


def zone(policy: Policy) -> ZoneInfo:
    return ZoneInfo(policy.timezone)


def local_text(moment: datetime, policy: Policy) -> str:
    """A time as people in the province read it (`08:00 03/12/2026`)."""
    return moment.astimezone(zone(policy)).strftime("%H:%M %d/%m/%Y")


def end_of_local_day(day: date, policy: Policy) -> datetime:
    """Midnight at the END of `day` in the province, in UTC: "by 15/12" means until then."""
    return datetime.combine(day + timedelta(days=1), time(0), zone(policy)).astimezone(UTC)


@dataclass(frozen=True)
class Due:
    """One due item: what it covers, when it is due, and when the ReportDue goes out."""

    period: str
    due_at: datetime
    announce_at: datetime


def annual_report(policy: Policy, year: int) -> Due:
    """The year-end evaluation report (rule 7): due at the end of the policy's month-day,
    announced `report.annual.lead_time` before."""
    month, day = (int(part) for part in str(policy.value("report.annual.due")).split("-"))
    due_at = end_of_local_day(date(year, month, day), policy)
    return Due(str(year), due_at, due_at - policy.duration("report.annual.lead_time"))


def next_annual_report(policy: Policy, now: datetime) -> Due:
    """The first annual report not yet due at `now` (announced at once if its lead passed)."""
    year = now.astimezone(zone(policy)).year
    due = annual_report(policy, year)
    return due if due.due_at > now else annual_report(policy, year + 1)


def inspection(policy: Policy, index: int) -> Due:
    """Periodic inspection number `index` (rule 4): periods of `inspection.period_months`
    counted from January of year 0, so 3 months gives calendar quarters; due at the end
    of the period, announced `inspection.lead_time` before."""
    months = int(policy.value("inspection.period_months"))
    first = index * months
    end_month = first + months  # months since year 0, exclusive
    due_at = datetime.combine(
        date(end_month // 12, end_month % 12 + 1, 1), time(0), zone(policy)
    ).astimezone(UTC)
    year, month = divmod(first, 12)
    if months == 3:
        period = f"{year}-Q{month // 3 + 1}"
    elif months == 12:
        period = str(year)
    else:
        period = f"{year}-{month + 1:02d}/{months}M"
    lead = (
        policy.duration("inspection.lead_time")
        if "inspection.lead_time" in policy.rules
        else timedelta(0)
    )
    return Due(period, due_at, due_at - lead)


def inspection_index(policy: Policy, now: datetime) -> int:
    """The period `now` falls in (its inspection is the next one due)."""
    local = now.astimezone(zone(policy))
    return (local.year * 12 + local.month - 1) // int(policy.value("inspection.period_months"))


def meeting_record(policy: Policy, start: datetime, end: datetime) -> Due:
    """Materials and minutes (rule 8): announced when the meeting ends, due
    `meeting_record.due_after` later; the period is the meeting's local date."""
    period = start.astimezone(zone(policy)).date().isoformat()
    return Due(period, end + policy.duration("meeting_record.due_after"), end)


def report_due(
    policy: Policy,
    *,
    tenant: str,
    kind: ReportKind,
    due: Due,
    rule: str,
    now: datetime,
    endpoint: str | None = None,
    unit: str | None = None,
    meeting_id: str | None = None,
) -> ReportDue:
    subject = meeting_id or endpoint or unit or tenant
    report_id = f"{kind.value}:{tenant}:{subject}:{due.period}"
    return ReportDue.create(
        tenant=tenant,
        correlation_id=meeting_id or report_id,
        producer=PRODUCER,
        occurred_at=now,
        report_id=report_id,
        kind=kind,
        endpoint=endpoint,
        unit=unit,
        meeting_id=meeting_id,
        period=due.period,
        due_at=due.due_at,
        rule=ref(policy, rule),
    )
