"""Notification's use cases: load -> domain(now) -> store the notices (and timers).

Every use case is idempotent: notices have deterministic ids (inserted once), facts are
inserted or replaced by key, timers have deterministic ids. A re-run after a crash
plans exactly the same notices.

Cancellation is keyed on the MEETING (one CANCEL per meeting), and both
`MeetingCancelled` (meetings stream) and `SlotReleased(reason="cancelled")` (slots
stream) trigger it: the first to arrive sends, the other finds the same notice ids.
`SlotReleased` follows `SlotAssigned` on the same partition, so a cancel can never be
planned before the meeting's notice exists; `MeetingCancelled` alone could overtake a
`SlotAssigned` still in flight on the other stream.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from hnth_contracts import (
    AccessLinkIssued,
    CheckCompleted,
    InspectionCancelled,
    InspectionScheduled,
    ReportDue,
    SlotAssigned,
    SlotRejected,
    SlotReleased,
)
from hnth_contracts.policy import Policy
from hnth_kit.auth import Principal, Role
from hnth_kit.batch_writes import held_in_batch
from hnth_kit.clock import Clock
from hnth_kit.mongo import Document
from hnth_kit.refusal import Refusal
from hnth_kit.timers import Timer
from notification.domain import (
    access,
    escalations,
    inspections,
    meetings,
    planning,
    reminders,
    replacements,
    reports,
    resends,
    signing,
    sms,
    technicians,
    timers,
)
from notification.domain.meetings import Meeting
from notification.domain.notices import NO_WEBHOOKS, Notice, Webhooks
from notification.domain.technicians import Snapshot as Snapshot
from notification.domain.timers import TimerPlan


class Store(Protocol):
    """What the use cases need of `NotificationStore`."""

    async def add_notices(self, notices: Sequence[Notice], now: datetime) -> list[str]: ...
    async def add_resend(
        self, original: Document, cause: str, by: str, now: datetime
    ) -> tuple[Document, bool]: ...
    async def notice(self, notice_id: str) -> Document | None: ...
    async def for_meeting(self, meeting_id: str, tenant: str) -> list[Document]: ...
    async def for_cause(self, cause: str) -> list[Document]: ...
    async def acknowledge(
        self, notice_id: str, now: datetime, by: str | None = None
    ) -> Document | None: ...
    async def meeting(self, tenant: str, meeting_id: str) -> Meeting | None: ...
    async def entry(self, tenant: str, key: str) -> Document | None: ...
    async def save_meeting(self, meeting: Meeting, new: bool = False) -> None: ...
    async def mark_cancelled(self, tenant: str, meeting_id: str, reason: str | None) -> None: ...
    async def cancelled(self, tenant: str, meeting_id: str) -> bool: ...
    async def record_check(
        self, tenant: str, meeting_id: str, endpoint: str, outcome: str
    ) -> None: ...
    async def checked_endpoints(
        self, tenant: str, meeting_id: str, endpoints: Sequence[str]
    ) -> list[str]: ...
    async def mark_report_submitted(self, tenant: str, report_id: str) -> None: ...
    async def report_submitted(self, tenant: str, report_id: str) -> bool: ...
    async def save_snapshot(self, event: Snapshot) -> None: ...
    async def directory_entry(self, doc_id: str) -> Document | None: ...
    async def directory_of(self, tenant: str) -> list[Document]: ...


class TimerQueue(Protocol):
    """kit's `Timers`: a timer is created once by id."""

    async def schedule_many(self, timers: Sequence[Timer]) -> None: ...


UNKNOWN_NOTICE = ("Không có thông báo này.", "There is no such notice.")
FORBIDDEN = (
    "Không có quyền xem thông báo của cuộc họp này.",
    "You may not see this meeting's notices.",
)
RESEND_KEY_REQUIRED = (
    "Cần header Idempotency-Key (8-100 ký tự chữ, số, '-', '_', '.').",
    "An Idempotency-Key header is required (8-100 letters, digits, '-', '_', '.').",
)
UNKNOWN_NOTICE = ("Không có thông báo này.", "There is no such notice.")
RESEND_REFUSALS = {
    resends.ResendRefusal.STILL_PENDING: (
        "Thông báo đang được gửi; chờ kết quả trước khi gửi lại.",
        "The notice is still being delivered; wait for its outcome before resending.",
    ),
    resends.ResendRefusal.MEETING_CANCELLED: (
        "Cuộc họp đã bị hủy: không gửi lại thông báo mời hoặc nhắc họp.",
        "The meeting is cancelled: its invitation or reminders are not sent again.",
    ),
    resends.ResendRefusal.REPLACED: (
        "Thông báo này đã được thay bằng thông báo mới hơn cho cùng người nhận (cuộc họp đã "
        "thay đổi hoặc bị hủy): hãy gửi lại thông báo mới nhất.",
        "A newer notice to the same recipient replaces this one (the meeting changed or was "
        "cancelled): resend the latest one.",
    ),
    resends.ResendRefusal.NOT_RESENDABLE: (
        "Không gửi lại đường dẫn đặt mật khẩu: hãy đặt lại mật khẩu để cấp đường dẫn mới.",
        "A password link is not resent: reset the password to issue a new link.",
    ),
}


class Notifications:
    """One method per use case; the subscribers, timers and routes only call these."""

    def __init__(
        self,
        store: Store,
        timers: TimerQueue,
        clock: Clock,
        policy_for: Callable[[str], Policy],
        webhooks: Webhooks = NO_WEBHOOKS,
        wake: Callable[[Sequence[str]], None] = lambda _: None,
        ack_secret: bytes = b"",
        list_window: timedelta = technicians.LIST_WINDOW,
        sms_on: bool = False,
    ) -> None:
        self.store = store
        self._timers = timers
        self._clock = clock
        self.policy_for = policy_for
        self._webhooks = webhooks
        self.wake = wake
        """Hand the sender the notices just stored, due now (none: it looks at its queue now
        instead of at its next poll)."""
        self._ack_secret = ack_secret
        self._list_window = list_window
        """How long a burst of directory changes is gathered into one circulated list."""
        self._sms_on = sms_on
        """An SMPP server is configured: notices `notice.sms` names also go by SMS."""

    # ------------------------------------------------------------ events

    async def slot_assigned(self, event: SlotAssigned) -> None:
        """The meeting's notice (or its update) and its timers, unless stale or cancelled."""
        previous = await self.store.meeting(event.tenant, event.meeting_id)
        if meetings.is_stale(event.revision, previous):
            return
        if await self.store.cancelled(event.tenant, event.meeting_id):
            return  # the cancellation overtook it: nobody should prepare for it
        policy, now = self.policy_for(event.tenant), self._clock.now()
        meeting = meetings.meeting_from_slot(event, previous)
        await self.store.save_meeting(meeting, new=previous is None)
        await self._add(
            planning.plan_assignment(meeting, policy, self._webhooks.of(event.tenant), now)
        )
        await self._schedule(event.tenant, timers.meeting_timers(meeting, policy, now))

    async def cancel(self, tenant: str, meeting_id: str, reason: str | None) -> None:
        """The cancellation to everyone the meeting's notice went to (once per meeting)."""
        await self.store.mark_cancelled(tenant, meeting_id, reason)
        meeting = await self.store.meeting(tenant, meeting_id)
        if meeting is None:
            return  # never assigned here, so nobody was told
        policy = self.policy_for(tenant)
        await self._add(
            planning.plan_cancellation(meeting, policy, self._webhooks.of(tenant), reason)
        )

    async def slot_released(self, event: SlotReleased) -> None:
        """A cancellation's release cancels; a displacement (`preempted`) tells every party
        the revision is off and why, and stops its reminders. Other releases (a change,
        a hold) need no notice of their own."""
        if event.reason == "cancelled":
            await self.cancel(event.tenant, event.meeting_id, event.cancel_reason)
            return
        if event.reason != "preempted":
            return
        meeting = await self.store.meeting(event.tenant, event.meeting_id)
        if meeting is None or meeting.revision != event.revision:
            return  # never told (or already moved on): nobody prepares for this revision
        await self.store.save_meeting(replace(meeting, released=True))
        policy = self.policy_for(event.tenant)
        await self._add(
            planning.plan_preemption(meeting, event, policy, self._webhooks.of(event.tenant))
        )

    async def slot_rejected(self, event: SlotRejected) -> None:
        await self._add(planning.plan_rejection(event, self.policy_for(event.tenant)))

    async def check_completed(self, event: CheckCompleted) -> None:
        store = self.store
        await store.record_check(event.tenant, event.meeting_id, event.endpoint, event.outcome)
        meeting = await store.meeting(event.tenant, event.meeting_id)
        await self._add(planning.plan_check_alert(event, meeting, self.policy_for(event.tenant)))

    async def report_due(self, event: ReportDue) -> None:
        """The report request, and its reminder's timer."""
        meeting = None
        if event.meeting_id:
            meeting = await self.store.meeting(event.tenant, event.meeting_id)
        await self._add(reports.plan_report_request(event, meeting))
        policy, now = self.policy_for(event.tenant), self._clock.now()
        timer = reports.report_reminder_timer(event, policy, now, meeting)
        await self._schedule(event.tenant, [timer] if timer else [])

    async def inspection_scheduled(self, event: InspectionScheduled) -> None:
        """A periodic inspection's plan (or its change) to its parties."""
        await self._add(inspections.plan_inspection_notices(event))

    async def inspection_cancelled(self, event: InspectionCancelled) -> None:
        policy = self.policy_for(event.tenant)
        await self._add(inspections.plan_inspection_cancellation(event, policy))

    async def report_submitted(self, tenant: str, report_id: str) -> None:
        await self.store.mark_report_submitted(tenant, report_id)

    async def access_link_issued(self, event: AccessLinkIssued) -> None:
        """The one-time link to set a password, mailed to the account holder (once)."""
        await self._add([access.plan_access_link(event)])

    async def directory_changed(self, event: Snapshot) -> None:
        """Keep the entry; a change to the technical contact list sets the province's
        timer that circulates it (before the entry is kept: a crash between the two
        finds the change again on redelivery, and the same timer)."""
        key, _ = technicians.entry_of(event)
        before = await self.store.directory_entry(key)
        if technicians.changes_the_list(event, before, self._clock.now()):
            timer = technicians.list_timer(event.tenant, event.occurred_at, self._list_window)
            await self._schedule(event.tenant, [timer])
        await self.store.save_snapshot(event)
        self.wake(())  # notices waiting for an address may go now

    # ------------------------------------------------------------ timers

    async def remind_meeting(self, timer: Timer) -> None:
        meeting = await self._current_meeting(timer)
        if meeting:
            policy = self.policy_for(timer.tenant)
            await self._add(reminders.plan_meeting_reminder(timer.id, meeting, policy))

    async def remind_check(self, timer: Timer) -> None:
        meeting = await self._current_meeting(timer)
        if meeting:
            checked = await self.store.checked_endpoints(
                timer.tenant, meeting.meeting_id, meeting.endpoints
            )
            policy = self.policy_for(timer.tenant)
            await self._add(reminders.plan_check_reminder(timer.id, meeting, checked, policy))

    async def notice_deadline(self, timer: Timer) -> None:
        """Formal notices still undelivered at the deadline are escalated."""
        meeting = await self._current_meeting(timer)
        if meeting:
            found = await self.store.for_cause(meetings.assignment_cause(meeting))
            undelivered = escalations.undelivered_formal(found)
            policy = self.policy_for(timer.tenant)
            await self._add(
                escalations.plan_deadline_escalation(timer.id, meeting, undelivered, policy)
            )

    async def ack_deadline(self, timer: Timer) -> None:
        """The parties who have not acknowledged this revision's notice, to the duty
        contact (who rings them: the notices page gives each one's phone)."""
        meeting = await self._current_meeting(timer)
        if meeting:
            found = await self.store.for_cause(meetings.assignment_cause(meeting))
            waiting = escalations.unacknowledged_formal(found)
            policy = self.policy_for(timer.tenant)
            await self._add(escalations.plan_ack_escalation(timer.id, meeting, waiting, policy))

    async def circulate_technician_list(self, timer: Timer) -> None:
        """The list as it stands now, to every technician of the province."""
        entries = await self.store.directory_of(timer.tenant)
        await self._add(technicians.plan_list(timer.id, timer.tenant, entries, timer.due_at))

    async def remind_report(self, timer: Timer) -> None:
        if not await self.store.report_submitted(timer.tenant, str(timer.payload["report_id"])):
            await self._add(reports.plan_report_reminder(timer.id, timer.tenant, timer.payload))

    # ------------------------------------------------------------ requests

    async def meeting_notices(self, who: Principal, meeting_id: str) -> list[Document]:
        """A meeting's notice history, for those who may see it (403 for the others)."""
        found = await self.store.for_meeting(meeting_id, who.tenant)
        meeting = await self.store.meeting(who.tenant, meeting_id)
        if not may_see(who, meeting, found) and not await self._takes_part(who, meeting):
            raise Refusal(403, "forbidden", *FORBIDDEN)
        replaced = replacements.replaced_by(found)
        return [{**n, "replaced_by": replaced.get(n["_id"])} for n in found]

    async def _takes_part(self, who: Principal, meeting: Meeting | None) -> bool:
        """A clerk's unit takes part at one of its endpoints (registration shows them the
        meeting): they see who was told, from the directory's copy of each endpoint."""
        if who.role is not Role.REGISTRAR or meeting is None or not who.unit:
            return False
        for code in meeting.endpoints:
            room = await self.store.entry(who.tenant, f"endpoint:{code}")
            if room is not None and room.get("unit") == who.unit:
                return True
        return False

    async def resend(self, who: Principal, notice_id: str, request_key: str) -> Document:
        """A fresh delivery of the same notice as a notice of its own (cause: this notice and
        the request's Idempotency-Key): a retried request sends once, a new one sends again."""
        if not resends.valid_resend_key(request_key):
            raise Refusal(400, "idempotency_key_required", *RESEND_KEY_REQUIRED)
        original = await self.store.notice(notice_id)
        if original is None or original["tenant"] != who.tenant:
            raise Refusal(404, "unknown_notice", *UNKNOWN_NOTICE)
        cause = resends.resend_cause(who.tenant, notice_id, request_key)
        repeated = await self.store.notice(f"{cause}|{original['recipient']}|{original['channel']}")
        if repeated is None:
            await self._may_resend(who.tenant, original)
        notice, created = await self.store.add_resend(
            original, cause, who.subject, self._clock.now()
        )
        if created:
            self.wake([notice["_id"]])
        return notice

    async def acknowledgement(self, token: str, *, record: bool) -> Document:
        """The notice a valid link names (acknowledged first when `record`; a repeat keeps
        the first time), or, when a newer notice to the same party replaces it, that one's
        link token as `newer_token` (nothing recorded); 404 for a link that is not ours."""
        notice_id = signing.verify_ack_token(self._ack_secret, token)
        notice = None if notice_id is None else await self.store.notice(notice_id)
        if notice is None:
            raise Refusal(
                404,
                "unknown_acknowledgement",
                "Đường dẫn xác nhận không hợp lệ.",
                "This acknowledgement link is not valid.",
            )
        if newer := await self._replaced_by(notice):
            return {**notice, "newer_token": signing.ack_token(self._ack_secret, newer)}
        if record:
            notice = await self.store.acknowledge(notice["_id"], self._clock.now()) or notice
        return notice

    async def acknowledge_as(self, who: Principal, notice_id: str) -> Document:
        """A signed-in recipient acknowledges a notice addressed to them, as its e-mailed
        link does (a repeat keeps the first time); 404 for a notice of another province or
        none, 403 for one addressed to somebody else."""
        notice = await self.store.notice(notice_id)
        if notice is None or notice["tenant"] != who.tenant:
            raise Refusal(404, "unknown_notice", *UNKNOWN_NOTICE)
        if not addressed_to(who, str(notice["recipient"])):
            raise Refusal(
                403,
                "not_your_notice",
                "Thông báo này gửi cho người khác; chỉ người nhận xác nhận được.",
                "This notice is addressed to somebody else; only its recipient acknowledges it.",
            )
        if await self._replaced_by(notice):
            raise Refusal(
                409,
                "replaced",
                "Thông báo này đã được thay bằng thông báo mới hơn: hãy xác nhận thông báo mới.",
                "A newer notice replaces this one: acknowledge the newer one.",
            )
        found = await self.store.acknowledge(notice_id, self._clock.now(), by=who.subject)
        assert found is not None  # read just above; notices are never deleted
        return found

    # ------------------------------------------------------------ helpers

    async def _may_resend(self, tenant: str, original: Document) -> None:
        meeting_id = original.get("meeting_id")
        cancelled = bool(meeting_id) and await self.store.cancelled(tenant, str(meeting_id))
        refusal = resends.resend_refusal(original["status"], original["kind"], cancelled)
        if refusal is None and await self._replaced_by(original):
            refusal = resends.ResendRefusal.REPLACED
        if refusal is not None:
            raise Refusal(409, refusal.value, *RESEND_REFUSALS[refusal])

    async def _replaced_by(self, notice: Document) -> str | None:
        """The id of the later notice to the same recipient that replaces `notice` (a
        meeting's notice once it changed or was cancelled), else None."""
        if not notice.get("meeting_id") or notice["kind"] not in replacements.LIFECYCLE:
            return None
        listed = await self.store.for_meeting(str(notice["meeting_id"]), notice["tenant"])
        return replacements.replaced_by(listed).get(str(notice["_id"]))

    async def _current_meeting(self, timer: Timer) -> Meeting | None:
        meeting_id = str(timer.payload["meeting_id"])
        meeting = await self.store.meeting(timer.tenant, meeting_id)
        cancelled = await self.store.cancelled(timer.tenant, meeting_id)
        return meeting if timers.timer_is_current(timer.payload, meeting, cancelled) else None

    async def _add(self, notices: Sequence[Notice]) -> None:
        """Store the notices and hand them to the sender; in a consumer batch, with the
        rest of the batch's at its end (one insert per collection for the batch, before
        its offsets are committed: a crash plans them again, under the same ids)."""
        if self._sms_on:
            notices = sms.with_sms(notices, self.policy_for, self._clock.now())
        key = f"notification.notices.{id(self)}"
        gathered = held_in_batch(key, lambda: _Gathered(self._store_notices))
        if gathered is None:
            await self._store_notices(notices)
        else:
            gathered.notices += notices

    async def _store_notices(self, notices: Sequence[Notice]) -> None:
        if stored := await self.store.add_notices(notices, self._clock.now()):
            self.wake(stored)

    async def _schedule(self, tenant: str, plans: Sequence[TimerPlan]) -> None:
        await self._timers.schedule_many(
            [Timer(p.id, p.kind, p.due_at, tenant, p.payload) for p in plans]
        )


@dataclass
class _Gathered:
    """A consumer batch's notices, stored together (by `store`) when it ends."""

    store: Callable[[Sequence[Notice]], Awaitable[None]]
    notices: list[Notice] = field(default_factory=list)

    async def flush(self) -> None:
        await self.store(self.notices)


def addressed_to(who: Principal, recipient: str) -> bool:
    """Whether a notice to `recipient` is the caller's own: a technician's endpoint, a
    registrar's unit, the IT department for its operators."""
    kind, _, code = recipient.partition(":")
    if kind == "technician":
        return who.role is Role.TECHNICIAN and who.serves(code)
    if kind == "unit":
        return who.role is Role.REGISTRAR and who.unit == code
    return kind == "it_department" and who.role is Role.OPERATOR


def may_see(who: Principal, meeting: Meeting | None, notices: Sequence[Document]) -> bool:
    """Sở KH&CN and viewers see everything; a host unit its meetings; a technician the
    meetings its endpoint takes part in."""
    if who.role in (Role.OPERATOR, Role.VIEWER):
        return True
    if who.role is Role.REGISTRAR:
        host = f"unit:{who.unit}"
        return (meeting is not None and meeting.host_unit == who.unit) or any(
            n["recipient"] == host for n in notices
        )
    return meeting is not None and any(who.serves(e) for e in meeting.endpoints)
