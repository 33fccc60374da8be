"""Topic names and message keys: the one place that spells them.

Topics are streams per aggregate, keyed so Kafka keeps what must stay in order on one
partition. A meeting's requests (`hnth.meetings`) are keyed by their province: a province's
calendar is decided by the one scheduling replica its partition is assigned to (the owner:
its picture of the calendar in memory is complete, and provinces spread over replicas), and
a cancellation never overtakes its request. A meeting's other events are keyed by the
meeting id. A deployment (or a test) may put all names under a prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

from hnth_contracts.envelope import Event
from hnth_contracts.events import (
    AccessLinkIssued,
    CheckCompleted,
    CheckSubmitted,
    ContactsUpdated,
    EndpointGroupUpdated,
    EndpointUpdated,
    HoldDecided,
    InspectionCancelled,
    InspectionScheduled,
    MeetingCancelled,
    MeetingChanged,
    MeetingRequested,
    MeetingSubmitted,
    NoticeAcknowledged,
    NoticeDelivered,
    ReportDue,
    ReportSubmitted,
    SlotAssigned,
    SlotHeld,
    SlotRejected,
    SlotReleased,
    SubmissionAccepted,
    SubmissionRefused,
    TenantMerged,
    TenantRenamed,
    TokensRevoked,
    UnitUpdated,
)

MEETINGS = "hnth.meetings"
"""Meeting lifecycle requests: MeetingRequested, MeetingChanged, MeetingCancelled, and an
operator's HoldDecided on a held meeting."""
SLOTS = "hnth.slots"
"""Scheduling decisions: SlotAssigned, SlotRejected, SlotReleased, SlotHeld."""
CHECKS = "hnth.checks"
"""Readiness: CheckSubmitted (raw results) and CheckCompleted (outcomes)."""
REPORTS = "hnth.reports"
"""Calendar: ReportDue, ReportSubmitted; inspection plans: InspectionScheduled and
InspectionCancelled."""
DIRECTORY = "hnth.directory"
"""The province directory: UnitUpdated, EndpointUpdated, EndpointGroupUpdated,
ContactsUpdated (snapshots)."""

ACCESS = "hnth.access"
"""Sign-in facts every service needs: TokensRevoked, AccessLinkIssued."""

NOTICES = "hnth.notices"
"""Written notices delivered and acknowledged: NoticeDelivered, NoticeAcknowledged."""
TENANTS = "hnth.tenants"
"""Provinces merged or renamed: TenantMerged, TenantRenamed (every service consumes it)."""
INBOUND = "hnth.inbound"
"""Requests from integrating systems, one topic per province (`hnth.inbound.<tenant>`, which
only that province's systems may write): MeetingSubmitted."""
REPLIES = "replies"
"""Registration's answers to them, one topic per system (`hnth.inbound.<tenant>.replies.
<client id>`, which only that system may read): SubmissionAccepted, SubmissionRefused."""
ALL = (MEETINGS, SLOTS, CHECKS, REPORTS, DIRECTORY, ACCESS, NOTICES, TENANTS)
DLQ_SUFFIX = ".dlq"

KEPT_FOREVER = (MEETINGS, SLOTS, CHECKS, REPORTS, DIRECTORY, NOTICES, TENANTS)
"""The lifecycle history: the platform's record, which `hnth replay --from` rebuilds read
models from, however old. Kept without a time limit (the broker's default is 7 days);
`hnth.access` keeps that default (revocations and links expire long before)."""
FOREVER = {"retention.ms": "-1"}


def topic_config(name: str) -> dict[str, str]:
    """The configuration topic `name` (prefixed or not, a `.dlq` too) is created with:
    the lifecycle topics and every dead-letter topic (a letter waits until someone deals
    with it) keep their messages forever."""
    if is_dead_letter(name) or any(name.endswith(base) for base in KEPT_FOREVER):
        return dict(FOREVER)
    return {}


PARTITIONS = 12
"""Partitions per topic: enough for 6 replicas of a service with room to spare."""

_TOPIC_OF: dict[type[Event], str] = {
    MeetingRequested: MEETINGS,
    MeetingChanged: MEETINGS,
    MeetingCancelled: MEETINGS,
    HoldDecided: MEETINGS,
    SlotAssigned: SLOTS,
    SlotRejected: SLOTS,
    SlotReleased: SLOTS,
    SlotHeld: SLOTS,
    CheckSubmitted: CHECKS,
    CheckCompleted: CHECKS,
    ReportDue: REPORTS,
    ReportSubmitted: REPORTS,
    InspectionScheduled: REPORTS,
    InspectionCancelled: REPORTS,
    UnitUpdated: DIRECTORY,
    EndpointUpdated: DIRECTORY,
    EndpointGroupUpdated: DIRECTORY,
    ContactsUpdated: DIRECTORY,
    TokensRevoked: ACCESS,
    AccessLinkIssued: ACCESS,
    NoticeDelivered: NOTICES,
    NoticeAcknowledged: NOTICES,
    TenantMerged: TENANTS,
    TenantRenamed: TENANTS,
    MeetingSubmitted: INBOUND,
    SubmissionAccepted: INBOUND,
    SubmissionRefused: INBOUND,
}
PER_PROVINCE = {MeetingSubmitted: "", SubmissionAccepted: REPLIES, SubmissionRefused: REPLIES}
"""Types whose topic is their province's own: `<topic>.<tenant>`, or with a suffix the
addressed system's own, `<topic>.<tenant>.<suffix>.<system>`."""


def topic_of(event_type: type[Event]) -> str:
    """The (unprefixed) topic events of this type are published to (for a type in
    `PER_PROVINCE`, the stem of every province's topic)."""
    return _TOPIC_OF[event_type]


def carries(topic: str, event_type: type[Event]) -> bool:
    """Whether events of `event_type` are published to (unprefixed) `topic`."""
    suffix = PER_PROVINCE.get(event_type)
    if suffix is None:
        return topic == topic_of(event_type)
    province = topic.removeprefix(f"{topic_of(event_type)}.")
    if suffix:
        return province != topic and f".{suffix}." in province
    return province != topic and "." not in province


def dead_letter(topic: str) -> str:
    """The dead-letter topic of `topic`."""
    return topic + DLQ_SUFFIX


def is_dead_letter(topic: str) -> bool:
    """Whether `topic` is a dead-letter topic (prefixed or not)."""
    return topic.endswith(DLQ_SUFFIX)


def key_of(event: Event) -> bytes:
    """The message key: the province for meeting requests (one owner per province
    calendar), the meeting for other meeting-scoped events, the report's subject for
    reports, the unit or endpoint code for directory entries."""
    if topic_of(type(event)) == MEETINGS:  # whatever the province's owner decides
        return event.tenant.encode()
    meeting_id = getattr(event, "meeting_id", None)
    if isinstance(event, UnitUpdated | EndpointUpdated):
        return f"{event.tenant}:{event.code}".encode()
    if isinstance(event, EndpointGroupUpdated):  # apart from a unit of the same code
        return f"{event.tenant}:group:{event.code}".encode()
    if isinstance(event, TokensRevoked | AccessLinkIssued):
        return f"{event.tenant}:{event.subject}".encode()
    if isinstance(event, TenantMerged):
        return f"tenant:{event.tenant}".encode()
    if isinstance(event, ContactsUpdated):
        return f"{event.tenant}:contacts".encode()
    if isinstance(event, InspectionScheduled | InspectionCancelled):
        return event.inspection_id.encode()
    if isinstance(event, ReportDue | ReportSubmitted):
        subject = event.endpoint or event.meeting_id or event.report_id
        return subject.encode()
    if isinstance(event, MeetingSubmitted | SubmissionAccepted | SubmissionRefused):
        return event.request_id.encode()
    if meeting_id:
        return str(meeting_id).encode()
    return event.correlation_id.encode()


@dataclass(frozen=True)
class Topics:
    """Topic names under an optional prefix (a test or a shared cluster sets one)."""

    prefix: str = ""

    def name(self, base: str) -> str:
        return f"{self.prefix}{base}"

    @property
    def meetings(self) -> str:
        return self.name(MEETINGS)

    @property
    def slots(self) -> str:
        return self.name(SLOTS)

    @property
    def checks(self) -> str:
        return self.name(CHECKS)

    @property
    def reports(self) -> str:
        return self.name(REPORTS)

    @property
    def directory(self) -> str:
        return self.name(DIRECTORY)

    @property
    def access(self) -> str:
        return self.name(ACCESS)

    @property
    def notices(self) -> str:
        return self.name(NOTICES)

    @property
    def tenants(self) -> str:
        return self.name(TENANTS)

    def inbound(self, tenant: str) -> str:
        """Where province `tenant`'s systems send their requests."""
        return self.name(f"{INBOUND}.{tenant}")

    def replies_prefix(self, tenant: str) -> str:
        """What the names of province `tenant`'s systems' replies topics begin with."""
        return f"{self.inbound(tenant)}.{REPLIES}."

    def replies(self, tenant: str, system: str) -> str:
        """Where system `system` (its client id) of province `tenant` reads its answers:
        its own topic, so no system reads another's request ids, meetings or refusals."""
        return f"{self.replies_prefix(tenant)}{system}"

    def province_of(self, inbound: str) -> str:
        """The province whose inbound topic `inbound` is (the inverse of `inbound`)."""
        stem = self.name(f"{INBOUND}.")
        if not inbound.startswith(stem) or "." in inbound.removeprefix(stem):
            raise ValueError(f"{inbound} is no province's inbound topic")
        return inbound.removeprefix(stem)

    def all(self) -> tuple[str, ...]:
        return tuple(self.name(base) for base in ALL)

    def of(self, event: Event) -> str:
        """The topic an event is published to."""
        suffix = PER_PROVINCE.get(type(event))
        if suffix is None:
            return self.name(topic_of(type(event)))
        if suffix:
            return self.replies(event.tenant, getattr(event, "system"))  # noqa: B009
        return self.inbound(event.tenant)
