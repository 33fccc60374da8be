"""Notification's rules, pure: who is told what, when, and how a delivery is judged.

Rule 2 (DOMAIN.md): the IT department, the line provider and the power company are told
in writing at least `notice.lead_time` before the meeting, and every endpoint in time to
prepare. Rule 3: technicians finish checks by `check.lead_time`; those who have not are
reminded `reminder.before_check` ahead. Recipients, lead times and the escalation target
are read from the province policy; every notice names the rule and its source.

Keys: a notice is keyed by (cause, recipient, channel). The cause is the *logical* cause
(the meeting's assignment at a revision, its cancellation, a check outcome, a due report,
a timer), so a redelivered event, a second replica, or an upstream duplicate with a new
event id all map to the same notice and it is sent once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from hnth_contracts import (
    CheckCompleted,
    CheckOutcome,
    ReportDue,
    ReportKind,
    RuleRef,
    SlotAssigned,
    SlotRejected,
)
from hnth_contracts.policy import Policy


class Kind(StrEnum):
    MEETING_NOTICE = "meeting_notice"
    MEETING_CHANGED = "meeting_changed"
    MEETING_CANCELLED = "meeting_cancelled"
    MEETING_REJECTED = "meeting_rejected"
    REMINDER_MEETING = "reminder_meeting"
    REMINDER_CHECK = "reminder_check"
    CHECK_ALERT = "check_alert"
    REPORT_REQUEST = "report_request"
    REPORT_REMINDER = "report_reminder"
    ESCALATION = "escalation"


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class Status(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


STANDING_ROLES = ("it_department", "line_provider", "power_company", "duty")
"""Roles whose address is in the province's standing contacts (`ContactsUpdated`)."""
CALENDAR_KINDS = (Kind.MEETING_NOTICE, Kind.MEETING_CHANGED, Kind.MEETING_CANCELLED)
"""Kinds that carry an iCalendar entry and go to webhook subscribers (e-office, calendars)."""
FORMAL_KINDS = (Kind.MEETING_NOTICE, Kind.MEETING_CHANGED)
"""The written notice of rule 2: failing to deliver one is escalated."""


@dataclass(frozen=True)
class Recipient:
    """Who, in which role, over which channel. `key` resolves to an address at send time:
    `it_department` / `line_provider` / `power_company` / `duty`, `unit:<code>`,
    `technician:<endpoint>`, `webhook:<url>`."""

    key: str
    role: str
    channel: Channel = Channel.EMAIL


@dataclass(frozen=True)
class Meeting:
    """This service's copy of a meeting, as its latest `SlotAssigned` describes it."""

    tenant: str
    meeting_id: str
    revision: int
    title: str
    host_unit: str
    main_endpoint: str
    endpoints: tuple[str, ...]
    start: datetime
    end: datetime
    bridge: str
    virtual_room: str
    dial_in: str
    check_deadline: datetime
    notice_deadline: datetime
    late_notice: bool = False
    removed_endpoints: tuple[str, ...] = ()
    """Endpoints the latest change dropped: their technicians receive a cancellation."""

    def data(self) -> dict[str, Any]:
        """What templates and webhooks are told about the meeting."""
        return {
            "meeting_id": self.meeting_id,
            "revision": self.revision,
            "title": self.title,
            "host_unit": self.host_unit,
            "main_endpoint": self.main_endpoint,
            "endpoints": list(self.endpoints),
            "start": self.start,
            "end": self.end,
            "bridge": self.bridge,
            "virtual_room": self.virtual_room,
            "dial_in": self.dial_in,
            "check_deadline": self.check_deadline,
            "notice_deadline": self.notice_deadline,
        }


@dataclass(frozen=True)
class Calendar:
    """The iCalendar entry a notice carries: one UID per meeting, SEQUENCE rising."""

    uid: str
    method: str
    sequence: int


@dataclass(frozen=True)
class Notice:
    """A notice to create (the store inserts it once by `id`)."""

    cause: str
    kind: Kind
    recipient: Recipient
    tenant: str
    rule: RuleRef
    meeting_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    calendar: Calendar | None = None

    @property
    def id(self) -> str:
        return notice_id(self.cause, self.recipient)


@dataclass(frozen=True)
class TimerPlan:
    id: str
    kind: str
    due_at: datetime
    payload: Mapping[str, Any]


def notice_id(cause: str, r: Recipient) -> str:
    """A notice is keyed by (cause, recipient, channel): never sent twice."""
    return f"{cause}|{r.key}|{r.channel.value}"


def calendar_uid(tenant: str, meeting_id: str) -> str:
    """Stable per meeting, so calendars update the same entry on change and cancel."""
    return f"{meeting_id}.{tenant}@hnth-ops"


# ---------------------------------------------------------------- recipients


def meeting_recipients(
    meeting: Meeting, policy: Policy, webhooks: Sequence[str] = ()
) -> list[Recipient]:
    """Everyone `notice.recipients` names for this meeting, then the webhook subscribers."""
    found: list[Recipient] = []
    for role in policy.value("notice.recipients"):
        if role == "technician":
            found += [technician(code) for code in meeting.endpoints]
        elif role == "host_unit":
            found.append(Recipient(f"unit:{meeting.host_unit}", "host_unit"))
        else:
            found.append(Recipient(role, role))
    return found + subscribers(webhooks)


def technician(endpoint: str) -> Recipient:
    return Recipient(f"technician:{endpoint}", "technician")


def subscribers(webhooks: Sequence[str]) -> list[Recipient]:
    return [Recipient(f"webhook:{url}", "subscriber", Channel.WEBHOOK) for url in webhooks]


def escalation_target(policy: Policy) -> Recipient:
    """Who hears escalations: `escalation.late_notice` names a standing role (e.g. duty)."""
    role = str(policy.value("escalation.late_notice"))
    return Recipient(role, role)


def endpoint_of(recipient_key: str) -> str | None:
    prefix, _, code = recipient_key.partition(":")
    return code if prefix == "technician" else None


# ---------------------------------------------------------------- meetings


def meeting_from_slot(event: SlotAssigned, previous: Meeting | None) -> Meeting:
    """The meeting as this assignment describes it. Replaying the same revision keeps the
    endpoints the change removed, so a re-run plans exactly the same notices."""
    if previous is None:
        removed: tuple[str, ...] = ()
    elif previous.revision == event.revision:
        removed = previous.removed_endpoints
    else:
        removed = tuple(e for e in previous.endpoints if e not in event.endpoints)
    return Meeting(
        tenant=event.tenant,
        meeting_id=event.meeting_id,
        revision=event.revision,
        title=event.title,
        host_unit=event.host_unit,
        main_endpoint=event.main_endpoint,
        endpoints=tuple(event.endpoints),
        start=event.slot.meeting.start,
        end=event.slot.meeting.end,
        bridge=event.slot.bridge,
        virtual_room=event.slot.virtual_room,
        dial_in=event.slot.dial_in,
        check_deadline=event.check_deadline,
        notice_deadline=event.notice_deadline,
        late_notice=event.late_notice,
        removed_endpoints=removed,
    )


def is_stale(event_revision: int, current: Meeting | None) -> bool:
    """An assignment older than the one already known changes nothing."""
    return current is not None and event_revision < current.revision


def assignment_cause(meeting: Meeting) -> str:
    return f"assigned:{meeting.tenant}:{meeting.meeting_id}:{meeting.revision}"


def is_late(meeting: Meeting, now: datetime) -> bool:
    """Accepted inside the notice lead time (scheduling's flag), or already past it."""
    return meeting.late_notice or meeting.notice_deadline <= now


def plan_assignment(
    meeting: Meeting, policy: Policy, webhooks: Sequence[str], now: datetime
) -> list[Notice]:
    """The formal notice (or its update) to everyone, a cancellation to technicians of
    endpoints the change dropped, and an escalation when the notice is late."""
    cause = assignment_cause(meeting)
    first = meeting.revision == 0
    kind = Kind.MEETING_NOTICE if first else Kind.MEETING_CHANGED
    uid = calendar_uid(meeting.tenant, meeting.meeting_id)
    base = Notice(
        cause=cause,
        kind=kind,
        recipient=Recipient("", ""),
        tenant=meeting.tenant,
        rule=policy.ref("notice.lead_time"),
        meeting_id=meeting.meeting_id,
        data=meeting.data(),
        calendar=Calendar(uid, "REQUEST", meeting.revision),
    )
    notices = [replace(base, recipient=r) for r in meeting_recipients(meeting, policy, webhooks)]
    dropped = replace(
        base,
        kind=Kind.MEETING_CANCELLED,
        data={**meeting.data(), "reason": "endpoint_removed"},
        calendar=Calendar(uid, "CANCEL", meeting.revision),
    )
    notices += [replace(dropped, recipient=technician(e)) for e in meeting.removed_endpoints]
    if is_late(meeting, now):
        notices.append(
            escalation(
                cause,
                meeting.tenant,
                policy,
                meeting_id=meeting.meeting_id,
                data={**meeting.data(), "reason": "late_notice"},
            )
        )
    return notices


def cancellation_cause(tenant: str, meeting_id: str) -> str:
    """One cancellation per meeting, whichever event (MeetingCancelled, SlotReleased) says so."""
    return f"cancelled:{tenant}:{meeting_id}"


def plan_cancellation(
    meeting: Meeting, policy: Policy, webhooks: Sequence[str], reason: str | None
) -> list[Notice]:
    """METHOD:CANCEL to everyone the meeting's notice went to; SEQUENCE above the last."""
    calendar = Calendar(
        calendar_uid(meeting.tenant, meeting.meeting_id), "CANCEL", meeting.revision + 1
    )
    return [
        Notice(
            cause=cancellation_cause(meeting.tenant, meeting.meeting_id),
            kind=Kind.MEETING_CANCELLED,
            recipient=r,
            tenant=meeting.tenant,
            rule=policy.ref("notice.lead_time"),
            meeting_id=meeting.meeting_id,
            data={**meeting.data(), "reason": reason or ""},
            calendar=calendar,
        )
        for r in meeting_recipients(meeting, policy, webhooks)
    ]


def plan_rejection(event: SlotRejected, policy: Policy) -> list[Notice]:
    """The host unit hears why (each conflict with its rule) and the proposed alternatives."""
    conflicts = [
        {
            "kind": c.kind.value,
            "resource": c.resource,
            "message": c.message,
            "message_en": c.message_en,
            "rule": c.rule.rule,
            "source": c.rule.source,
        }
        for c in event.conflicts
    ]
    return [
        Notice(
            cause=f"rejected:{event.tenant}:{event.meeting_id}:{event.revision}",
            kind=Kind.MEETING_REJECTED,
            recipient=Recipient(f"unit:{event.host_unit}", "host_unit"),
            tenant=event.tenant,
            rule=event.conflicts[0].rule,
            meeting_id=event.meeting_id,
            data={
                "meeting_id": event.meeting_id,
                "title": event.title or event.meeting_id,  # older writers sent no title
                "revision": event.revision,
                "conflicts": conflicts,
                "alternatives": [{"start": w.start, "end": w.end} for w in event.alternatives],
            },
        )
    ]


def plan_check_alert(
    event: CheckCompleted, meeting: Meeting | None, policy: Policy
) -> list[Notice]:
    """A failed or missed check alerts the IT department and the host unit, naming the endpoint."""
    if event.outcome is CheckOutcome.PASSED:
        return []
    recipients = [Recipient("it_department", "it_department")]
    if meeting is not None:
        recipients.append(Recipient(f"unit:{meeting.host_unit}", "host_unit"))
    data: dict[str, Any] = (
        meeting.data() if meeting else {"meeting_id": event.meeting_id, "title": event.meeting_id}
    )
    data |= {
        "endpoint": event.endpoint,
        "outcome": event.outcome.value,
        "failed_items": [i.value for i in event.failed_items],
        "due_at": event.due_at,
    }
    return [
        Notice(
            cause=f"check:{event.event_id}",
            kind=Kind.CHECK_ALERT,
            recipient=r,
            tenant=event.tenant,
            rule=policy.ref("check.lead_time"),
            meeting_id=event.meeting_id,
            data=data,
        )
        for r in recipients
    ]


def report_recipient(endpoint: str | None, unit: str | None, kind: str) -> Recipient:
    """An endpoint's technician, else the unit (the host unit, for a meeting's minutes)."""
    if endpoint:
        return technician(endpoint)
    if unit:
        role = "host_unit" if kind == ReportKind.MEETING_RECORD else "unit"
        return Recipient(f"unit:{unit}", role)
    return Recipient("it_department", "it_department")


def report_data(event: ReportDue, meeting: Meeting | None = None) -> dict[str, Any]:
    """What a report request and its reminder say; a meeting's minutes name the meeting
    by its title when this service knows it (from its assignment)."""
    return {
        "report_id": event.report_id,
        "report_kind": event.kind.value,
        "endpoint": event.endpoint,
        "unit": event.unit,
        "meeting_id": event.meeting_id,
        "period": event.period,
        "due_at": event.due_at,
        "rule": event.rule.rule,
        "source": event.rule.source,
        "title": meeting.title if meeting else None,
    }


def plan_report_request(event: ReportDue, meeting: Meeting | None = None) -> list[Notice]:
    return [
        Notice(
            cause=f"report:{event.tenant}:{event.report_id}",
            kind=Kind.REPORT_REQUEST,
            recipient=report_recipient(event.endpoint, event.unit, event.kind),
            tenant=event.tenant,
            rule=event.rule,
            meeting_id=event.meeting_id,
            data=report_data(event, meeting),
        )
    ]


def plan_report_reminder(timer_id: str, tenant: str, report: Mapping[str, Any]) -> list[Notice]:
    return [
        Notice(
            cause=timer_id,
            kind=Kind.REPORT_REMINDER,
            recipient=report_recipient(
                report.get("endpoint"), report.get("unit"), str(report["report_kind"])
            ),
            tenant=tenant,
            rule=RuleRef(rule=str(report["rule"]), source=str(report["source"])),
            meeting_id=report.get("meeting_id"),
            data=dict(report),
        )
    ]


def escalation(
    cause: str,
    tenant: str,
    policy: Policy,
    *,
    meeting_id: str | None,
    data: Mapping[str, Any],
) -> Notice:
    """To the duty contact (`escalation.late_notice`), citing the notice rule it protects."""
    return Notice(
        cause=f"{cause}|escalation",
        kind=Kind.ESCALATION,
        recipient=escalation_target(policy),
        tenant=tenant,
        rule=policy.ref("notice.lead_time"),
        meeting_id=meeting_id,
        data=data,
    )


# ---------------------------------------------------------------- resends


RESEND_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def resend_cause(tenant: str, original: str, request_key: str) -> str:
    """A resend is its own cause, named by the operator's request: the notice it repeats
    and the request's Idempotency-Key. A retried click maps to the same notice and is sent
    once; a new click (a new key) is a new notice."""
    digest = hashlib.sha256(original.encode()).hexdigest()[:16]
    return f"resend:{tenant}:{digest}:{request_key}"


def valid_resend_key(key: str) -> bool:
    return 8 <= len(key) <= 100 and set(key) <= RESEND_KEY_CHARS


class ResendRefusal(StrEnum):
    STILL_PENDING = "still_pending"
    MEETING_CANCELLED = "meeting_cancelled"


def resend_refusal(status: str, kind: str, meeting_cancelled: bool) -> ResendRefusal | None:
    """Why a notice may not be resent, or None. A notice still being delivered is already
    on its way (a resend would only race it). Once the meeting is cancelled, resending
    its invitation, change or reminder would announce a meeting that will not take place;
    only the cancellation itself (and notices about no meeting) may go out again."""
    if status == Status.PENDING.value:
        return ResendRefusal.STILL_PENDING
    if meeting_cancelled and kind != Kind.MEETING_CANCELLED.value:
        return ResendRefusal.MEETING_CANCELLED
    return None


# ---------------------------------------------------------------- timers


class TimerKind(StrEnum):
    REMIND_MEETING = "remind_meeting"
    REMIND_CHECK = "remind_check"
    NOTICE_DEADLINE = "notice_deadline"
    REMIND_REPORT = "remind_report"


def meeting_timers(meeting: Meeting, policy: Policy, now: datetime) -> list[TimerPlan]:
    """Reminders T-`reminder.before_meeting` (all) and T-`reminder.before_check`
    (technicians not yet checked), and the notice deadline check. Per revision: a timer
    of an older revision finds the meeting moved on and does nothing. Times already past
    are not scheduled (the notice itself is the reminder)."""
    key = f"{meeting.tenant}:{meeting.meeting_id}:{meeting.revision}"
    payload = {"meeting_id": meeting.meeting_id, "revision": meeting.revision}
    plans = [
        TimerPlan(
            f"{TimerKind.REMIND_MEETING}:{key}",
            TimerKind.REMIND_MEETING,
            meeting.start - policy.duration("reminder.before_meeting"),
            payload,
        ),
        TimerPlan(
            f"{TimerKind.REMIND_CHECK}:{key}",
            TimerKind.REMIND_CHECK,
            meeting.start - policy.duration("reminder.before_check"),
            payload,
        ),
        TimerPlan(
            f"{TimerKind.NOTICE_DEADLINE}:{key}",
            TimerKind.NOTICE_DEADLINE,
            meeting.notice_deadline,
            payload,
        ),
    ]
    return [p for p in plans if p.due_at > now]


def timer_is_current(payload: Mapping[str, Any], meeting: Meeting | None, cancelled: bool) -> bool:
    """A meeting timer acts only for the meeting's current revision, and never once cancelled."""
    return meeting is not None and not cancelled and payload.get("revision") == meeting.revision


def plan_meeting_reminder(timer_id: str, meeting: Meeting, policy: Policy) -> list[Notice]:
    """T-1 day: everyone the notice went to, by e-mail."""
    return [
        Notice(
            cause=timer_id,
            kind=Kind.REMINDER_MEETING,
            recipient=r,
            tenant=meeting.tenant,
            rule=policy.ref("reminder.before_meeting"),
            meeting_id=meeting.meeting_id,
            data=meeting.data(),
        )
        for r in meeting_recipients(meeting, policy)
    ]


def plan_check_reminder(
    timer_id: str, meeting: Meeting, checked: Iterable[str], policy: Policy
) -> list[Notice]:
    """T-2h: technicians of endpoints with no check result yet."""
    done = set(checked)
    return [
        Notice(
            cause=timer_id,
            kind=Kind.REMINDER_CHECK,
            recipient=technician(endpoint),
            tenant=meeting.tenant,
            rule=policy.ref("reminder.before_check"),
            meeting_id=meeting.meeting_id,
            data={**meeting.data(), "endpoint": endpoint},
        )
        for endpoint in meeting.endpoints
        if endpoint not in done
    ]


def plan_deadline_escalation(
    timer_id: str, meeting: Meeting, undelivered: Sequence[str], policy: Policy
) -> list[Notice]:
    """At the notice deadline, formal notices not yet delivered go to the duty contact."""
    if not undelivered:
        return []
    return [
        escalation(
            timer_id,
            meeting.tenant,
            policy,
            meeting_id=meeting.meeting_id,
            data={**meeting.data(), "reason": "undelivered", "recipients": list(undelivered)},
        )
    ]


def plan_failure_escalation(
    failed_notice_id: str,
    tenant: str,
    meeting: Mapping[str, Any],
    recipient: str,
    why: str,
    policy: Policy,
) -> list[Notice]:
    """A formal notice that gave up is escalated at once, naming the recipient and why."""
    return [
        escalation(
            failed_notice_id,
            tenant,
            policy,
            meeting_id=meeting.get("meeting_id"),
            data={**meeting, "reason": "failed", "recipients": [recipient], "failure": why},
        )
    ]


def report_reminder_rule(kind: ReportKind) -> str:
    """How long before its due date a report is reminded. The minutes have their own lead:
    they are due `meeting_record.due_after` after the meeting's end (P3D), so the yearly
    reports' `report.reminder_before` (P3D) would fall at the end itself, already past."""
    if kind is ReportKind.MEETING_RECORD:
        return "meeting_record.reminder_before"
    return "report.reminder_before"


def report_reminder_timer(
    event: ReportDue, policy: Policy, now: datetime, meeting: Meeting | None = None
) -> TimerPlan | None:
    due = event.due_at - policy.duration(report_reminder_rule(event.kind))
    if due <= now:
        return None
    return TimerPlan(
        f"{TimerKind.REMIND_REPORT}:{event.tenant}:{event.report_id}",
        TimerKind.REMIND_REPORT,
        due,
        report_data(event, meeting),
    )


# ---------------------------------------------------------------- delivery


@dataclass(frozen=True)
class Attempt:
    """What one delivery attempt came to."""

    delivered: bool
    permanent: bool = False
    reason: str = ""


DELIVERED = Attempt(delivered=True)


def retry(reason: str) -> Attempt:
    return Attempt(delivered=False, reason=reason)


def give_up(reason: str) -> Attempt:
    return Attempt(delivered=False, permanent=True, reason=reason)


def smtp_reply(code: int, message: str) -> Attempt:
    """5xx is the server's final word (unknown mailbox, refused); 4xx asks to try later."""
    reason = f"{code} {message}".strip()
    return give_up(reason) if code >= 500 else retry(reason)


def http_reply(status: int) -> Attempt:
    """2xx delivered; 408, 429 and 5xx are worth retrying; other 4xx never succeed."""
    if 200 <= status < 300:
        return DELIVERED
    if status in (408, 429) or status >= 500:
        return retry(f"HTTP {status}")
    return give_up(f"HTTP {status}")


@dataclass(frozen=True)
class Next:
    """The notice's state after an attempt."""

    status: Status
    attempts: int
    next_attempt_at: datetime | None
    reason: str | None


def after_attempt(
    attempt: Attempt,
    attempts_before: int,
    now: datetime,
    *,
    max_attempts: int,
    backoff: timedelta,
    max_backoff: timedelta,
) -> Next:
    """Delivered -> sent; permanent or out of attempts -> failed; else retry, doubling."""
    attempts = attempts_before + 1
    if attempt.delivered:
        return Next(Status.SENT, attempts, None, None)
    if attempt.permanent or attempts >= max_attempts:
        return Next(Status.FAILED, attempts, None, attempt.reason)
    delay = min(backoff * (2 ** (attempts - 1)), max_backoff)
    return Next(Status.PENDING, attempts, now + delay, attempt.reason)


# ---------------------------------------------------------------- signatures


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def ack_token(secret: bytes, notice: str) -> str:
    """`<notice id>.<HMAC>` in URL-safe base64: the link is the proof, no login needed."""
    mac = hmac.new(secret, b"ack:" + notice.encode(), hashlib.sha256).digest()
    return f"{_b64(notice.encode())}.{_b64(mac)}"


def verify_ack_token(secret: bytes, token: str) -> str | None:
    """The notice id the token was signed for, or None when it is not ours."""
    head, _, _ = token.partition(".")
    try:
        notice = _unb64(head).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    # as bytes: compare_digest refuses str with non-ASCII characters (TypeError)
    expected = ack_token(secret, notice).encode()
    return notice if hmac.compare_digest(expected, token.encode()) else None


def webhook_signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over `<unix timestamp>.<body>`: the timestamp lets receivers refuse replays."""
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def message_id(notice: str, domain: str) -> str:
    """Deterministic per notice: a resend after a crash carries the same Message-ID."""
    return f"<{hashlib.sha256(notice.encode()).hexdigest()[:32]}@{domain}>"
