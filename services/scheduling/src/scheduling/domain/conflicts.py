"""Who holds what: the occupancy read so far, and how a conflict with it is worded."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hnth_contracts import Conflict, ConflictKind, RuleRef, Window
from hnth_contracts.policy import Bridge, Policy
from hnth_contracts.rules import local_text
from scheduling.domain.requests import Request


def capacity_ref(bridge: Bridge) -> RuleRef:
    return RuleRef(rule="bridge.ports", source=bridge.source)


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
    """`08:00 - 10:00 10/12/2026`, the day said once when the meeting ends on it."""
    start, end = (local_text(t, policy) for t in (holder.meeting.start, holder.meeting.end))
    if start[6:] == end[6:]:
        return f"{start[:5]} - {end}"
    return f"{start} - {end}"


def _apart(request: Request, other: Window) -> bool:
    """The two meetings themselves do not overlap: only the buffers around them do."""
    return request.end <= other.start or other.end <= request.start


def _buffers(policy: Policy) -> tuple[str, str]:
    """Why meetings that do not overlap still collide, in both languages: an endpoint is
    held around each meeting (its checks before, overrunning and tidying after)."""
    before = int(policy.duration("slot.setup_buffer").total_seconds() // 60)
    after = int(policy.duration("slot.teardown_buffer").total_seconds() // 60)
    return (
        f"; mỗi cuộc họp giữ điểm cầu từ {before} phút trước khai mạc đến {after} phút sau "
        "khi kết thúc",
        f"; each meeting holds its endpoints from {before} minutes before it opens until "
        f"{after} minutes after it ends",
    )


def endpoint_conflicts(
    request: Request, busy: Iterable[tuple[str, Holder]], policy: Policy
) -> list[Conflict]:
    """One conflict per (endpoint, other meeting), in endpoint order, citing the rule
    "one meeting per endpoint at a time"; the first that only the buffers around the
    meetings make says why (once: the refusal reads its conflicts together)."""
    seen: dict[tuple[str, str], Conflict] = {}
    explained = False
    for room, holder in sorted(busy, key=lambda item: (item[0], item[1].meeting.start)):
        if holder.meeting_id == request.meeting_id or (room, holder.meeting_id) in seen:
            continue
        when = _span(holder, policy)
        vi, en = ("", "")
        if not explained and _apart(request, holder.meeting):
            (vi, en), explained = _buffers(policy), True
        seen[(room, holder.meeting_id)] = Conflict(
            kind=ConflictKind.ENDPOINT_BUSY,
            resource=room,
            other_meeting_id=holder.meeting_id,
            other_window=holder.meeting,
            rule=policy.ref("slot.endpoint_exclusive"),
            message=f"Điểm cầu {room} đã được xếp cho cuộc họp {holder.meeting_id} ({when}){vi}",
            message_en=f"Endpoint {room} is already booked for meeting {holder.meeting_id} "
            f"({when}){en}",
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
