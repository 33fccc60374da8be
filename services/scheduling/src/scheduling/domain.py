"""Scheduling's rules, pure: a request in, a decision (event) out. No I/O.

Walking-skeleton scope: every well-formed request gets a slot on the province's bridge
with the policy's buffers and deadlines. Conflict detection and alternatives come with
the scheduling issue.
"""

from __future__ import annotations

from datetime import datetime

from hnth_contracts import MeetingRequested, Slot, SlotAssigned, Window
from hnth_contracts.policy import Policy

PRODUCER = "scheduling"


def reserved_window(start: datetime, end: datetime, policy: Policy) -> Window:
    """The meeting widened by the setup (checks) and teardown buffers."""
    return Window(
        start=start - policy.duration("slot.setup_buffer"),
        end=end + policy.duration("slot.teardown_buffer"),
    )


def assign_slot(request: MeetingRequested, policy: Policy, now: datetime) -> SlotAssigned:
    room = f"VR-{request.meeting_id}"
    return SlotAssigned.create(
        cause=request,
        occurred_at=now,
        producer=PRODUCER,
        meeting_id=request.meeting_id,
        title=request.title,
        host_unit=request.host_unit,
        main_endpoint=request.main_endpoint,
        endpoints=request.endpoints,
        slot=Slot(
            bridge=policy.bridge.name,
            virtual_room=room,
            dial_in=policy.bridge.dial_in.format(room=room),
            meeting=Window(start=request.start, end=request.end),
            reserved=reserved_window(request.start, request.end, policy),
        ),
        check_deadline=request.start - policy.duration("check.lead_time"),
        notice_deadline=request.start - policy.duration("notice.lead_time"),
        late_notice=request.late_notice,
        rules=(
            policy.ref("slot.setup_buffer"),
            policy.ref("check.lead_time"),
            policy.ref("notice.lead_time"),
        ),
        policy=policy.id,
    )
