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
from hnth_contracts.policy import Bridge, Policy

PRODUCER = "scheduling"
BUCKET = timedelta(minutes=15)
"""Reservation granularity: small enough for real agendas, coarse enough to keep claims few."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ALTERNATIVES = 3
ALTERNATIVE_HORIZON = timedelta(days=2)
"""How far before and after the requested start alternatives are looked for."""

DEFAULTS: dict[str, timedelta] = {
    "slot.setup_buffer": timedelta(hours=1),
    "slot.teardown_buffer": timedelta(0),
    "check.lead_time": timedelta(hours=1),
    "notice.lead_time": timedelta(days=2),
    "directory.unknown_endpoint_grace": timedelta(minutes=10),
}
DEFAULT_SOURCE = "mặc định HNTH Ops (chính sách tỉnh chưa quy định)"


# ---------------------------------------------------------------- policy access


def duration(policy: Policy, rule: str) -> timedelta:
    """The policy's duration, or the documented default when the province has none."""
    return policy.duration(rule) if rule in policy.rules else DEFAULTS[rule]


def ref(policy: Policy, rule: str) -> RuleRef:
    """The rule and its source; a rule the province did not write cites the default."""
    return policy.ref(rule) if rule in policy.rules else RuleRef(rule=rule, source=DEFAULT_SOURCE)


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


def policy_violations(
    request: Request,
    policy: Policy,
    directory: Mapping[str, bool | None] | None,
    now: datetime,
) -> list[Conflict]:
    """Rules a request breaks before any resource is looked at.

    `directory` maps each endpoint to active/inactive, None when unknown; `None` as a
    whole when the directory has no entry for the province yet (nothing to check).
    """
    found: list[Conflict] = []
    if request.end <= request.start:
        found.append(
            _policy(
                policy,
                "meeting.start_before_end",
                request.meeting_id,
                "Thời gian kết thúc phải sau thời gian bắt đầu",
            )
        )
    elif request.start <= now:
        found.append(
            _policy(
                policy,
                "meeting.not_in_past",
                request.meeting_id,
                f"Cuộc họp đã bắt đầu lúc {local_text(request.start, policy)}",
            )
        )
    else:
        if "meeting.min_duration" in policy.rules and request.length < policy.duration(
            "meeting.min_duration"
        ):
            found.append(
                _policy(
                    policy,
                    "meeting.min_duration",
                    request.meeting_id,
                    f"Cuộc họp ngắn hơn {policy.duration('meeting.min_duration')}",
                )
            )
        if "meeting.max_duration" in policy.rules and request.length > policy.duration(
            "meeting.max_duration"
        ):
            found.append(
                _policy(
                    policy,
                    "meeting.max_duration",
                    request.meeting_id,
                    f"Cuộc họp dài hơn {policy.duration('meeting.max_duration')}",
                )
            )
    for room in request.rooms if directory is not None else ():
        state = directory.get(room) if directory is not None else None
        if state is not True:
            what = (
                "không xác định: không có trong danh bạ"
                if state is None
                else "đang ngừng hoạt động"
            )
            found.append(
                _policy(policy, "directory.endpoint_active", room, f"Điểm cầu {room} {what}")
            )
    largest = max(policy.all_bridges, key=lambda b: b.ports)
    if request.ports > largest.ports:
        found.append(
            Conflict(
                kind=ConflictKind.BRIDGE_CAPACITY,
                resource=largest.name,
                rule=capacity_ref(largest),
                message=f"Cần {request.ports} cổng, cầu lớn nhất {largest.name} có "
                f"{largest.ports} cổng",
            )
        )
    return found


def unknown_endpoints(
    request: Request, directory: Mapping[str, bool | None] | None
) -> tuple[str, ...]:
    """Endpoints of the request the directory has never heard of (sorted): the directory
    arrives on its own topic, so they may simply not be here YET."""
    if directory is None:
        return ()
    return tuple(room for room in request.rooms if directory.get(room) is None)


def must_wait(
    request: Request,
    directory: Mapping[str, bool | None] | None,
    parked_at: datetime | None,
    policy: Policy,
    now: datetime,
) -> bool:
    """Wait for unknown endpoints while the grace period since the request was first
    parked (`parked_at`, None = not parked yet) lasts; after it they are rejected."""
    if not unknown_endpoints(request, directory):
        return False
    return parked_at is None or now < grace_ends(parked_at, policy)


def grace_ends(parked_at: datetime, policy: Policy) -> datetime:
    return parked_at + duration(policy, "directory.unknown_endpoint_grace")


def _policy(policy: Policy, rule: str, resource: str, message: str) -> Conflict:
    return Conflict(
        kind=ConflictKind.POLICY, resource=resource, rule=ref(policy, rule), message=message
    )


# ---------------------------------------------------------------- occupancy and conflicts


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


def endpoint_conflicts(
    request: Request, busy: Iterable[tuple[str, Holder]], policy: Policy
) -> list[Conflict]:
    """One conflict per (endpoint, other meeting), in endpoint order."""
    seen: dict[tuple[str, str], Conflict] = {}
    for room, holder in sorted(busy, key=lambda item: (item[0], item[1].meeting.start)):
        if holder.meeting_id == request.meeting_id or (room, holder.meeting_id) in seen:
            continue
        seen[(room, holder.meeting_id)] = Conflict(
            kind=ConflictKind.ENDPOINT_BUSY,
            resource=room,
            other_meeting_id=holder.meeting_id,
            other_window=holder.meeting,
            rule=ref(policy, "slot.setup_buffer"),
            message=f"Điểm cầu {room} đã được xếp cho cuộc họp {holder.meeting_id} "
            f"({local_text(holder.meeting.start, policy)} - "
            f"{local_text(holder.meeting.end, policy)})",
        )
    return list(seen.values())


def capacity_conflict(bridge: Bridge, holder: Holder | None, policy: Policy) -> Conflict:
    when = (
        f", đang dùng bởi cuộc họp {holder.meeting_id} từ "
        f"{local_text(holder.meeting.start, policy)}"
        if holder
        else ""
    )
    return Conflict(
        kind=ConflictKind.BRIDGE_CAPACITY,
        resource=bridge.name,
        other_meeting_id=holder.meeting_id if holder else None,
        other_window=holder.meeting if holder else None,
        rule=capacity_ref(bridge),
        message=f"Cầu {bridge.name} không đủ {bridge.ports} cổng trống{when}",
    )


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
        late_notice=request.late_notice,
        rules=(
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
