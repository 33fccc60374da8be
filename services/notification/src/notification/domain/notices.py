"""What a notice is: its kind, recipient, channel, key and delivery status.

Keys: a notice is keyed by (cause, recipient, channel). The cause is the *logical* cause
(the meeting's assignment at a revision, its cancellation, a check outcome, a due report,
a timer), so a redelivered event, a second replica, or an upstream duplicate with a new
event id all map to the same notice and it is sent once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hnth_contracts import RuleRef
from hnth_contracts.policy import Policy
from notification.domain.meetings import Meeting


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
    ACCESS_LINK = "access_link"
    INSPECTION_PLANNED = "inspection_planned"
    INSPECTION_CANCELLED = "inspection_cancelled"
    TECHNICIAN_LIST = "technician_list"


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    SMS = "sms"


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
PERSONAL_KINDS = (Kind.ACCESS_LINK,)
"""Mail to one person about their account, not a notice about a meeting: addressed by the
event itself (not the directory), no acknowledgement link, no rule cited, never resent."""


@dataclass(frozen=True)
class Recipient:
    """Who, in which role, over which channel. `key` resolves to an address at send time:
    `it_department` / `line_provider` / `power_company` / `duty`, `unit:<code>`,
    `technician:<endpoint>`, `webhook:<url>`."""

    key: str
    role: str
    channel: Channel = Channel.EMAIL


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


def told(meeting: Meeting, recipient: Recipient) -> dict[str, Any]:
    """What a recipient is told about the meeting: an endpoint's technician its own
    bridge's dial-in, everyone else the host's and each bridge's share."""
    return meeting.data(endpoint_of(recipient.key))


def technician(endpoint: str) -> Recipient:
    return Recipient(f"technician:{endpoint}", "technician")


def subscribers(webhooks: Sequence[str]) -> list[Recipient]:
    return [Recipient(f"webhook:{url}", "subscriber", Channel.WEBHOOK) for url in webhooks]


EVERY_PROVINCE = "*"


@dataclass(frozen=True)
class Webhooks:
    """Who is posted a province's meeting notices: the URLs listed under its code, and
    those under `*` (every province's). A province's systems hear only their own
    province's meetings."""

    by_province: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of_setting(cls, urls: Sequence[str] | Mapping[str, Sequence[str]]) -> Webhooks:
        """From `HNTH_WEBHOOK_URLS`: a list (every province's) or province -> list."""
        listed = {EVERY_PROVINCE: urls} if isinstance(urls, Sequence) else urls
        return cls({province: tuple(found) for province, found in listed.items()})

    def of(self, tenant: str) -> tuple[str, ...]:
        every, own = self.by_province.get(EVERY_PROVINCE, ()), self.by_province.get(tenant, ())
        return tuple(dict.fromkeys((*every, *own)))

    def __bool__(self) -> bool:
        return any(self.by_province.values())


NO_WEBHOOKS = Webhooks()


def endpoint_of(recipient_key: str) -> str | None:
    prefix, _, code = recipient_key.partition(":")
    return code if prefix == "technician" else None
