"""Pre-emption: a request of a higher priority (`meeting.priorities`) whose only obstacles
are meetings of strictly lower priority may displace them. It does so by itself when the
province names its level in `schedule.preempt_automatic`, or when the IT department orders
it (`MeetingChanged.preempt_reason`); otherwise its rejection offers it to an operator.

A displaced meeting is never dropped silently: its slot is released with the reason (the
rule and its source, and who displaced it), its host is told with the nearest free
windows, and every party its notice went to is told.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from hnth_contracts import (
    Conflict,
    ConflictKind,
    Event,
    RuleRef,
    SlotRejected,
    SlotReleased,
    Window,
    priority,
)
from hnth_contracts.policy import Policy
from hnth_contracts.rules import local_text
from scheduling.domain.alternatives import ALTERNATIVES
from scheduling.domain.decisions import PRODUCER
from scheduling.domain.requests import Request

PRIORITIES = priority.PRIORITIES
PREEMPT_AUTOMATIC = priority.PREEMPT_AUTOMATIC


def may_outrank(request: Request, policy: Policy) -> bool:
    """Could the request outrank anything at all (the lowest level never does)?"""
    return priority.rank(policy, request.priority) < len(priority.levels(policy)) - 1


def blockers(conflicts: Iterable[Conflict]) -> list[str] | None:
    """The meetings standing in the way, or None when something else does too (a broken
    rule, a bridge too small even empty, ports held by meetings not named)."""
    named: dict[str, None] = {}
    for conflict in conflicts:
        if conflict.other_meeting_id is None:
            return None
        named[conflict.other_meeting_id] = None
    return list(named) or None


def outranks_all(request: Request, policy: Policy, others: Mapping[str, str | None]) -> bool:
    """Is the request strictly higher than every meeting in its way (their levels)?"""
    return bool(others) and all(
        priority.outranks(policy, request.priority, level) for level in others.values()
    )


def preempts(request: Request, policy: Policy) -> bool:
    """Does the request displace what it outranks now, without an operator's offer?"""
    return request.preempt_reason is not None or priority.preempts_automatically(
        policy, request.priority
    )


def preemption_rule(request: Request, policy: Policy) -> RuleRef:
    """The rule a displacement cites: the automatic one, or the priorities an operator used."""
    if request.preempt_reason is None:
        return policy.ref(PREEMPT_AUTOMATIC)
    return policy.ref(PRIORITIES)


def displaced_conflict(request: Request, policy: Policy) -> Conflict:
    """Why a meeting lost its slot, as its host and parties read it."""
    found = priority.level(policy, request.priority)
    vi, en = (found.vi, found.en) if found else (request.priority, request.priority)
    when = f"{local_text(request.start, policy)} - {local_text(request.end, policy)}"
    because = f"; lý do: {request.preempt_reason}" if request.preempt_reason else ""
    because_en = f"; reason: {request.preempt_reason}" if request.preempt_reason else ""
    return Conflict(
        kind=ConflictKind.POLICY,
        resource=PRIORITIES,
        other_meeting_id=request.meeting_id,
        other_window=Window(start=request.start, end=request.end),
        rule=preemption_rule(request, policy),
        message=(
            f"Cuộc họp được ưu tiên hơn ({vi}) {request.meeting_id} „{request.title}“ ({when}) "
            f"cần các điểm cầu, cổng này: cuộc họp đã bị thay chỗ{because}; "
            "hãy chọn một thời gian khác"
        ),
        message_en=(
            f"A meeting of higher priority ({en}), {request.meeting_id} '{request.title}' "
            f"({when}), needs these endpoints and ports: the meeting was displaced{because_en}; "
            "choose another time"
        ),
    )


def offer_conflict(request: Request, policy: Policy, others: Sequence[str]) -> Conflict:
    """In a rejection: every meeting in the way has a lower priority, so the IT department
    may pre-empt them (`POST /meetings/{id}/preempt`)."""
    names = ", ".join(others)
    return Conflict(
        kind=ConflictKind.POLICY,
        resource=PRIORITIES,
        rule=policy.ref(PRIORITIES),
        message=(
            f"Các cuộc họp {names} có mức ưu tiên thấp hơn: Sở KH&CN có thể cho cuộc họp "
            "này thay chỗ các cuộc họp đó"
        ),
        message_en=(
            f"Meetings {names} have a lower priority: the IT department may let this "
            "meeting pre-empt them"
        ),
    )


def displaced_events(
    displaced: Request,
    why: Conflict,
    alternatives: Sequence[Window],
    cause: Event,
    now: datetime,
) -> tuple[SlotRejected, SlotReleased]:
    """What the displaced revision's release says: its host hears why with the nearest free
    windows (`SlotRejected`), every party hears it is off (`SlotReleased(preempted)`). They
    belong to the displaced meeting's flow, caused by the displacing request."""
    common = {
        "tenant": displaced.tenant,
        "correlation_id": displaced.meeting_id,
        "occurred_at": now,
        "producer": PRODUCER,
        "meeting_id": displaced.meeting_id,
        "revision": displaced.revision,
    }
    rejection = SlotRejected.create(
        cause=cause,
        **common,
        host_unit=displaced.host_unit,
        title=displaced.title,
        conflicts=(why,),
        alternatives=tuple(alternatives[:ALTERNATIVES]),
    )
    released = SlotReleased.create(cause=rejection, **common, reason="preempted", why=why)
    return rejection, released
