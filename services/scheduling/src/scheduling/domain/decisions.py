"""The events a decision emits: the slot assigned, the request rejected, a slot released."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hnth_contracts import (
    BridgeShare,
    Conflict,
    Event,
    GroupExpansion,
    MeetingCancelled,
    Slot,
    SlotAssigned,
    SlotRejected,
    SlotReleased,
    Window,
)
from hnth_contracts.policy import Bridge, Policy
from hnth_contracts.rules import NATIONAL
from scheduling.domain.alternatives import ALTERNATIVES
from scheduling.domain.buckets import reserved_window
from scheduling.domain.cascade import CASCADE, Share
from scheduling.domain.conflicts import capacity_ref
from scheduling.domain.requests import Request, asked_at
from scheduling.domain.validation import is_late

PRODUCER = "scheduling"


def check_deadline(request: Request, policy: Policy, now: datetime) -> datetime:
    """When the endpoints' checks are due: `check.lead_time` before the opening; a new
    meeting asked for after that (an urgent one, registered inside the hour; the request's
    time, so a replay decides the same) by its opening,
    as a backup switched to in the last hour is: a deadline already past would call every
    endpoint missed, and alert every party, the moment it is assigned. A change keeps the
    usual deadline (moving it would start every endpoint's checks again)."""
    usual = request.start - policy.duration("check.lead_time")
    return request.start if request.revision == 0 and asked_at(request, now) > usual else usual


def assign(
    request: Request,
    policy: Policy,
    where: Bridge | Sequence[Share],
    cause: Event,
    now: datetime,
) -> SlotAssigned:
    """The slot on the bridge `where` names (the whole meeting on it), or on the first
    share's bridge, cascaded over the others when there are more."""
    shares = [Share(where.name, request.rooms)] if isinstance(where, Bridge) else where
    room = f"VR-{request.meeting_id}"
    by_name = {b.name: b for b in policy.all_bridges}
    bridge = by_name[shares[0].bridge]
    cascade = tuple(
        BridgeShare(
            bridge=s.bridge,
            endpoints=s.endpoints,
            ports=s.ports,
            dial_in=by_name[s.bridge].dial_in.format(room=room),
            host=n == 0,
        )
        for n, s in enumerate(shares)
        if len(shares) > 1
    )
    capacity = tuple(capacity_ref(by_name[s.bridge]) for s in shares)
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
        groups=tuple(
            GroupExpansion(group=code, endpoints=codes) for code, codes in request.expanded
        ),
        document_number=request.document_number,
        document_date=request.document_date,
        external_host=request.external_host,
        backup=request.backup,
        change_reason=request.change_reason,
        slot=Slot(
            bridge=bridge.name,
            virtual_room=room,
            dial_in=bridge.dial_in.format(room=room),
            meeting=Window(start=request.start, end=request.end),
            reserved=reserved_window(request.start, request.end, policy),
            cascade=cascade,
        ),
        check_deadline=check_deadline(request, policy, now),
        notice_deadline=request.start - policy.duration("notice.lead_time"),
        # another publisher may not flag it: inside the lead time is late, whoever says so
        late_notice=request.late_notice or is_late(request, policy, now),
        rules=(
            policy.ref("slot.endpoint_exclusive"),
            policy.ref("slot.setup_buffer"),
            policy.ref("slot.teardown_buffer"),
            *capacity,
            *((policy.ref(CASCADE),) if cascade else ()),
            policy.ref("check.lead_time"),
            policy.ref("notice.lead_time"),
            *((policy.ref(NATIONAL),) if request.external_host else ()),
        ),
        policy=policy.id,
    )


def reject(
    request: Request,
    conflicts: Sequence[Conflict],
    alternatives: Sequence[Window],
    cause: Event,
    now: datetime,
    preemptible: Sequence[str] = (),
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
        preemptible=tuple(preemptible),
    )


def release(
    meeting_id: str,
    revision: int,
    reason: str,
    cause: Event,
    now: datetime,
) -> SlotReleased:
    return SlotReleased.create(
        cause=cause,
        occurred_at=now,
        producer=PRODUCER,
        meeting_id=meeting_id,
        revision=revision,
        reason=reason,
        # a cancellation's release carries its reason to the parties told of it
        cancel_reason=cause.reason if isinstance(cause, MeetingCancelled) else None,
    )
