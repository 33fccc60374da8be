"""The IT department's approval (`schedule.approval`): with `operator`, a request that
fits is HELD, its endpoints and ports claimed as an assignment's are, until an operator
approves or rejects it, or the hold's deadline passes.

The deadline (`schedule.hold_deadline`) runs from the decision (the request's arrival),
because that is what the IT department can promise a host ("within a working day"); it
is cut short at the meeting's notice deadline (start - `notice.lead_time`), so that an
approved meeting's notices can still go out in time, and for a request already inside
the lead time at its check deadline (start - `check.lead_time`), so that the endpoints
can still be checked. It never ends before the decision itself.
"""

from __future__ import annotations

from datetime import datetime

from hnth_contracts import Conflict, ConflictKind, Event, RuleRef, SlotAssigned, SlotHeld
from hnth_contracts.policy import Policy, describe
from scheduling.domain.decisions import PRODUCER

APPROVAL = "schedule.approval"
HOLD_DEADLINE = "schedule.hold_deadline"
AUTOMATIC, OPERATOR = "automatic", "operator"


def needs_approval(policy: Policy) -> bool:
    """Whether a request that fits waits for an operator (unset: automatic, as before)."""
    return APPROVAL in policy.rules and policy.value(APPROVAL) == OPERATOR


def hold_expires(policy: Policy, start: datetime, now: datetime) -> datetime:
    """When a hold decided `now` for a meeting starting at `start` is released undecided."""
    cap = start - policy.duration("notice.lead_time")
    if cap <= now:
        cap = start - policy.duration("check.lead_time")
    return max(now, min(now + policy.duration(HOLD_DEADLINE), cap))


def hold(assignment: SlotAssigned, policy: Policy, now: datetime) -> SlotHeld:
    """The hold standing in for `assignment` until an operator decides."""
    return SlotHeld.create(
        tenant=assignment.tenant,
        correlation_id=assignment.correlation_id,
        causation_id=assignment.causation_id,
        occurred_at=now,
        producer=PRODUCER,
        meeting_id=assignment.meeting_id,
        revision=assignment.revision,
        title=assignment.title,
        host_unit=assignment.host_unit,
        endpoints=assignment.endpoints,
        slot=assignment.slot,
        expires_at=hold_expires(policy, assignment.slot.meeting.start, now),
        rules=(policy.ref(APPROVAL), policy.ref(HOLD_DEADLINE)),
    )


def approved(assignment: SlotAssigned, cause: Event, now: datetime) -> SlotAssigned:
    """The assignment the hold kept, announced now that an operator approved it."""
    return SlotAssigned.create(
        **assignment.model_dump(exclude={"event_id", "occurred_at", "causation_id"}),
        causation_id=str(cause.event_id),
        occurred_at=now,
    )


def expired_conflict(policy: Policy) -> Conflict:
    """Why a hold nobody decided in time is released, as the host reads it."""
    span = policy.duration(HOLD_DEADLINE)
    return Conflict(
        kind=ConflictKind.POLICY,
        resource=APPROVAL,
        rule=policy.ref(HOLD_DEADLINE),
        message=(
            f"Sở KH&CN chưa duyệt cuộc họp trong thời hạn giữ chỗ ({describe(span)}): "
            "các điểm cầu và cổng đã được trả lại; hãy đăng ký lại hoặc liên hệ Sở KH&CN"
        ),
        message_en=(
            "The IT department did not approve the meeting within the hold deadline "
            f"({describe(span, english=True)}): its endpoints and ports are released; "
            "register again or contact the IT department"
        ),
    )


def rejected_conflict(rule: RuleRef, reason: str | None) -> Conflict:
    """Why an operator rejected a held meeting, as the host reads it."""
    because = f": {reason}" if reason else ""
    return Conflict(
        kind=ConflictKind.POLICY,
        resource=APPROVAL,
        rule=rule,
        message=f"Sở KH&CN không duyệt cuộc họp{because}",
        message_en=f"The IT department did not approve the meeting{because}",
    )
