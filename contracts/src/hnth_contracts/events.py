"""The events of the HNTH flows, version 1.

Meeting lifecycle (topic `meetings`, key = meeting id): MeetingRequested, MeetingChanged,
MeetingCancelled. Scheduling's decisions (topic `slots`, key = meeting id): SlotAssigned,
SlotRejected, SlotReleased. Readiness (topic `checks`, key = meeting id): CheckCompleted.
Calendar (topic `reports`, key = endpoint or meeting): ReportDue, ReportSubmitted;
a periodic inspection's plan (key = the inspection): InspectionScheduled, InspectionCancelled.
Directory (topic `directory`, key = unit, endpoint or group code): UnitUpdated,
EndpointUpdated, EndpointGroupUpdated, ContactsUpdated: full snapshots, so the latest per
key is the current state.
Raw readiness results from technicians or probes (topic `checks`): CheckSubmitted.
Access (topic `access`, key = tenant:subject): TokensRevoked, AccessLinkIssued.
Written notices (topic `notices`, key = meeting id): NoticeDelivered, NoticeAcknowledged.

Every decision names the rule it applied and the rule's source (`RuleRef`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter, model_validator

from hnth_contracts.envelope import Event, Model, UtcDatetime

MEETING_ID = re.compile(r"\bmtg-[0-9a-f]{8,16}\b")
"""A meeting id as registration makes them (`mtg-` and 12 or 16 hex digits), inside a
sentence: scheduling's refusals name the meeting in the way by it, and those who show the
refusal to people name that meeting as its reader may know it."""

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
"""A unit or endpoint code from the province's directory, e.g. `STTTT` or `TQ-HUYEN-SONDUONG`."""


Language = Literal["vi", "en"]
"""A language notices and pages are written in: Vietnamese (the default) or English."""


class RuleRef(Model):
    """A province rule by its policy key, and where it comes from (regulation, article)."""

    rule: str = Field(min_length=1, max_length=128)
    source: str = Field(min_length=1, max_length=256)


class Window(Model):
    """A half-open time interval [start, end) in UTC."""

    start: UtcDatetime
    end: UtcDatetime

    @model_validator(mode="after")
    def _start_before_end(self) -> Window:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


# ---------------------------------------------------------------- directory


class Contact(Model):
    """Who to reach: an organisation or a person, with the ways to reach them."""

    name: str = Field(min_length=1, max_length=200)
    person: str | None = Field(default=None, max_length=200)
    """The named person at the organisation, when there is one."""
    phone: str | None = Field(default=None, max_length=50)
    email: str | None = Field(default=None, max_length=254)
    language: Language = "vi"
    """The language this contact's notices are written in (Vietnamese unless they asked)."""


class UnitKind(StrEnum):
    """The two tiers of local government since 1 July 2025: the province's bodies, and the
    commune-level units (xã, phường, đặc khu)."""

    PARTY = "party"
    """Tỉnh ủy: the provincial Party committee."""
    COUNCIL = "council"
    """HĐND tỉnh: the provincial People's Council."""
    COMMITTEE = "committee"
    """UBND tỉnh: the provincial People's Committee."""
    DEPARTMENT = "department"
    """A department (sở, ban, ngành) of the province."""
    COMMUNE = "commune"
    """Xã: a commune."""
    WARD = "ward"
    """Phường: an urban ward."""
    SPECIAL_ZONE = "special_zone"
    """Đặc khu: a special administrative zone (an island)."""
    OTHER = "other"
    DISTRICT = "district"
    """Huyện: the level abolished on 1 July 2025. Only in messages written before then;
    registration no longer accepts it and migrates stored district units."""


COMMUNE_LEVEL = frozenset({UnitKind.COMMUNE, UnitKind.WARD, UnitKind.SPECIAL_ZONE})
"""The commune-level kinds (cấp xã)."""


class EndpointKind(StrEnum):
    ROOM = "room"
    """A hardware room (điểm cầu cứng)."""
    SOFTWARE = "software"
    """A software client: a laptop, tablet or phone joining over the network or 4G."""


DIRECTORY_LOAD = "directory-load"
"""The `correlation_id` of the directory snapshots registration publishes when it loads a
province's directory file (`directory` for every later change): the first load is not a
change to circulate to the technicians (rule 5)."""


class UnitUpdated(Event):
    """A unit's current entry in the province's directory (a full snapshot)."""

    type: Literal["UnitUpdated"] = "UnitUpdated"
    code: Code
    name: str = Field(min_length=1, max_length=300)
    kind: UnitKind = UnitKind.OTHER
    active: bool = True
    contact: Contact | None = None
    """Who receives the unit's notices (the host unit's office)."""


class EndpointUpdated(Event):
    """An endpoint's current entry in the directory, with its technician (rule 5)."""

    type: Literal["EndpointUpdated"] = "EndpointUpdated"
    code: Code
    name: str = Field(min_length=1, max_length=300)
    unit: Code
    kind: EndpointKind = EndpointKind.ROOM
    location: str | None = Field(default=None, max_length=500)
    active: bool = True
    technician: Contact | None = None


class EndpointGroupUpdated(Event):
    """An endpoint group the operator keeps ("all communes", a cluster, a department's set;
    a full snapshot). A meeting naming the group gets, when it is decided, every ACTIVE
    endpoint named in `endpoints`, owned by a unit in `units`, or owned by a unit of a kind
    in `kinds`."""

    type: Literal["EndpointGroupUpdated"] = "EndpointGroupUpdated"
    code: Code
    name: str = Field(min_length=1, max_length=300)
    endpoints: tuple[Code, ...] = Field(default=(), max_length=20000)
    units: tuple[Code, ...] = Field(default=(), max_length=20000)
    kinds: tuple[UnitKind, ...] = ()
    active: bool = True


class ContactsUpdated(Event):
    """The province's standing contacts: who is notified of every meeting (rule 2)."""

    type: Literal["ContactsUpdated"] = "ContactsUpdated"
    it_department: Contact
    line_provider: Contact
    power_company: Contact
    duty: Contact | None = None
    """The IT department's duty contact, who hears escalations (late notices, failures)."""


# ---------------------------------------------------------------- meetings


class MeetingDetails(Model):
    """What a host unit registers: the same fields on a request and on a change."""

    title: str = Field(min_length=1, max_length=500)
    host_unit: Code
    chair: str = Field(min_length=1, max_length=200)
    start: UtcDatetime
    end: UtcDatetime
    main_endpoint: Code
    endpoints: tuple[Code, ...] = Field(default=(), max_length=20000)
    groups: tuple[Code, ...] = Field(default=(), max_length=100)
    """Endpoint groups (`EndpointGroupUpdated`, or a built-in one such as `ALL-COMMUNES`):
    scheduling expands each to its active endpoints when it decides the meeting."""
    excluded: tuple[Code, ...] = Field(default=(), max_length=100)
    """Endpoints the groups reach that the meeting leaves out: one switched to its backup
    in the last hour (`MeetingChanged.backup`, rule 6); none for older writers."""
    agenda: str | None = Field(default=None, max_length=10000)
    document_number: str | None = Field(default=None, max_length=100)
    document_date: date | None = None
    external_host: str | None = Field(default=None, min_length=1, max_length=200)
    """A meeting hosted outside the province (the Government, a ministry: "điểm cầu Trung
    ương"), named here: the province receives it on `main_endpoint` and relays it to its
    other endpoints; the notice lead time is `notice.national_lead_time`, flagged late
    inside the ordinary one. None: the province's own meeting (older writers: always)."""
    priority: str | None = Field(default=None, min_length=1, max_length=64)
    """The meeting's level in `meeting.priorities` (`hnth_contracts.priority`); None: the
    province's default level (older writers: always)."""
    record: bool = False
    """The meeting is to be recorded (ghi hình); the recording joins its materials after it
    (older writers: always False)."""

    @model_validator(mode="after")
    def _names_endpoints_or_groups(self) -> MeetingDetails:
        if not self.endpoints and not self.groups:
            raise ValueError("name at least one endpoint or group")
        return self


class MeetingRequested(MeetingDetails, Event):
    """A host unit (over registration's HTTP API, or another system straight on Kafka)
    asks for a meeting on the network. `late_notice` marks an urgent meeting accepted
    inside the notice lead time, with `urgent_reason`."""

    type: Literal["MeetingRequested"] = "MeetingRequested"
    meeting_id: str = Field(min_length=1, max_length=128)
    requested_by: str | None = Field(default=None, max_length=200)
    late_notice: bool = False
    urgent_reason: str | None = Field(default=None, max_length=2000)


class BackupSwitch(Model):
    """The IT department put an endpoint's backup (a standby room or a 4G terminal, rule 6)
    in its place in the meeting's last hour (`POST /meetings/{id}/switch-backup`)."""

    replaced: Code
    backup: Code
    reason: str = Field(min_length=1, max_length=2000)
    rule: RuleRef
    """`backup.switch_window` and its source."""


class MeetingChanged(MeetingDetails, Event):
    """The host changed time or endpoints; `revision` rises by one on every change."""

    type: Literal["MeetingChanged"] = "MeetingChanged"
    meeting_id: str = Field(min_length=1, max_length=128)
    revision: int = Field(ge=1)
    changed_by: str | None = Field(default=None, max_length=200)
    late_notice: bool = False
    urgent_reason: str | None = Field(default=None, max_length=2000)
    reason: str | None = Field(default=None, max_length=2000)
    """Why the meeting changed, in the words of whoever changed it: always for the IT
    department's move (`POST /meetings/{id}/move`), if given for a host's own change
    (older writers: None for a host's change)."""
    preempt_reason: str | None = Field(default=None, max_length=2000)
    """The IT department orders this revision to displace the lower-priority meetings that
    alone refused the last one (`POST /meetings/{id}/preempt`), and why; None otherwise."""
    backup: BackupSwitch | None = None
    """Set when the change switched an endpoint to its backup (older writers: None)."""


class MeetingCancelled(Event):
    type: Literal["MeetingCancelled"] = "MeetingCancelled"
    meeting_id: str = Field(min_length=1, max_length=128)
    reason: str | None = Field(default=None, max_length=2000)
    cancelled_by: str | None = Field(default=None, max_length=200)


# ---------------------------------------------------------------- scheduling decisions


class BridgeShare(Model):
    """One bridge's part of a cascaded meeting: the endpoints it connects, the ports it
    gives (one per endpoint, plus one per cascade link) and its own dial-in address."""

    bridge: str
    endpoints: tuple[Code, ...]
    ports: int = Field(ge=1)
    """Endpoints plus links: the host bridge spends one port per linked bridge, a linked
    bridge one port for its link to the host."""
    dial_in: str
    host: bool = False
    """The main bridge, holding the main endpoint; the others are linked to it."""


class Slot(Model):
    """Where and when a meeting runs on the bridge."""

    bridge: str
    """The bridge hosting the meeting (the main one when cascaded)."""
    virtual_room: str
    dial_in: str
    meeting: Window
    reserved: Window
    """The meeting window widened by the setup and teardown buffers."""
    cascade: tuple[BridgeShare, ...] = ()
    """Each bridge's share when the meeting is cascaded over several bridges (the host's
    first); empty when one bridge holds it all (older writers: always empty)."""


class GroupExpansion(Model):
    """What a group named by the meeting expanded to when the meeting was decided."""

    group: Code
    endpoints: tuple[Code, ...]


class SlotAssigned(Event):
    type: Literal["SlotAssigned"] = "SlotAssigned"
    meeting_id: str
    revision: int = Field(default=0, ge=0)
    """0 for the first assignment, then the MeetingChanged revision it answers."""
    title: str
    host_unit: Code
    main_endpoint: Code
    endpoints: tuple[Code, ...]
    """Every endpoint of the meeting: those it named and those its groups expanded to."""
    groups: tuple[GroupExpansion, ...] = ()
    """The groups the meeting named, each with the endpoints it expanded to."""
    slot: Slot
    check_deadline: UtcDatetime
    """When the endpoints' checks are due: `check.lead_time` before the opening, or the
    opening itself for a meeting first decided after that (an urgent one)."""
    notice_deadline: UtcDatetime
    late_notice: bool = False
    rules: tuple[RuleRef, ...] = ()
    policy: str
    """The policy file and version the decision used, e.g. `tuyen-quang@2017-345`."""
    document_number: str | None = Field(default=None, max_length=100)
    """The host unit's official letter the request named (số công văn), for the notices."""
    document_date: date | None = None
    external_host: str | None = Field(default=None, max_length=200)
    """The host outside the province, for a national meeting the province relays."""
    backup: BackupSwitch | None = None
    """The backup switch the change it answers made, so the replaced endpoint's technician
    is told what takes its place (older writers: None)."""
    change_reason: str | None = Field(default=None, max_length=2000)
    """Why the meeting changed (`MeetingChanged.reason` of the change it answers), for the
    change notices; None for a first assignment or a change without one."""


class ConflictKind(StrEnum):
    ENDPOINT_BUSY = "endpoint_busy"
    BRIDGE_CAPACITY = "bridge_capacity"
    POLICY = "policy"


class Conflict(Model):
    kind: ConflictKind
    resource: str
    """The endpoint code, or the bridge name for capacity."""
    other_meeting_id: str | None = None
    other_window: Window | None = None
    rule: RuleRef
    message: str
    """The reason in Vietnamese, as the host unit reads it."""
    message_en: str | None = None
    """The same reason in English, for readers who asked for English (None from older writers)."""


class SlotRejected(Event):
    type: Literal["SlotRejected"] = "SlotRejected"
    meeting_id: str
    revision: int = Field(default=0, ge=0)
    host_unit: Code
    title: str | None = Field(default=None, max_length=500)
    """The meeting's title, so a rejection notice can name it (None from older writers)."""
    conflicts: tuple[Conflict, ...] = Field(min_length=1)
    alternatives: tuple[Window, ...] = Field(default=(), max_length=3)
    """Up to 3 nearest windows of the same duration where everything is free."""
    preemptible: tuple[str, ...] = ()
    """The meetings standing in the way when every one of them has a strictly lower
    priority (`meeting.priorities`): an operator may pre-empt them. Empty otherwise."""


class SlotReleased(Event):
    """The meeting's reservations are freed: cancelled, replaced by a changed slot, or a
    hold (`SlotHeld`) the operator rejected (`hold_rejected`) or did not decide in time
    (`hold_expired`), or displaced by a higher-priority meeting (`preempted`); the last
    three follow a `SlotRejected` that tells the host why."""

    type: Literal["SlotReleased"] = "SlotReleased"
    meeting_id: str
    revision: int = Field(default=0, ge=0)
    reason: Literal["cancelled", "changed", "hold_rejected", "hold_expired", "preempted"]
    why: Conflict | None = None
    """For `preempted`: the meeting that displaced it, the rule and its source, worded in
    Vietnamese and English for every party the meeting's notice went to."""
    cancel_reason: str | None = Field(default=None, max_length=2000)
    """For `cancelled`: the reason the cancellation gave (`MeetingCancelled.reason`), so a
    party told of the cancellation by this event reads why, whichever event came first."""


class SlotHeld(Event):
    """The request fits, and the province has the IT department approve every meeting
    (`schedule.approval: operator`): its endpoints and ports are reserved as an
    assignment's are, until an operator approves (then `SlotAssigned`) or rejects it, or
    `expires_at` passes (then `SlotRejected` and `SlotReleased`)."""

    type: Literal["SlotHeld"] = "SlotHeld"
    meeting_id: str
    revision: int = Field(default=0, ge=0)
    title: str
    host_unit: Code
    endpoints: tuple[Code, ...]
    slot: Slot
    expires_at: UtcDatetime
    rules: tuple[RuleRef, ...] = ()
    """`schedule.approval` and `schedule.hold_deadline`, with their sources."""


class HoldDecided(Event):
    """An operator approved or rejected a held meeting's revision (registration's
    `POST /meetings/{id}/approve` and `/reject`); scheduling turns the hold into an
    assignment or releases it, once per revision whoever delivers it how often."""

    type: Literal["HoldDecided"] = "HoldDecided"
    meeting_id: str = Field(min_length=1, max_length=128)
    revision: int = Field(ge=0)
    approved: bool
    reason: str | None = Field(default=None, max_length=2000)
    decided_by: str | None = Field(default=None, max_length=200)
    rule: RuleRef


# ---------------------------------------------------------------- readiness checks


class CheckOutcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    MISSED = "missed"


class CheckItem(StrEnum):
    LINE = "line"
    AUDIO = "audio"
    VIDEO = "video"
    CONTENT = "content"
    POWER = "power"


class CheckCompleted(Event):
    """An endpoint's readiness before a meeting (rule 3: done by start - 1 h).

    A later CheckCompleted for the same (meeting, endpoint) supersedes an earlier one,
    e.g. a late submission after `missed`."""

    type: Literal["CheckCompleted"] = "CheckCompleted"
    meeting_id: str
    endpoint: Code
    outcome: CheckOutcome
    failed_items: tuple[CheckItem, ...] = ()
    due_at: UtcDatetime
    checked_at: UtcDatetime | None = None
    checked_by: str | None = None
    on_time: bool
    supersedes: str | None = None
    """The event_id of the CheckCompleted this one replaces."""
    rule: RuleRef | None = None
    """The check-deadline rule the outcome was judged by (None from older writers)."""


class ItemResult(Model):
    ok: bool
    note: str | None = Field(default=None, max_length=2000)
    latency_ms: float | None = Field(default=None, ge=0)
    """Measured round-trip latency to the bridge, when known (the line item)."""
    loss_pct: float | None = Field(default=None, ge=0, le=100)
    """Measured packet loss in percent, when known (the line item)."""


class CheckSubmitted(Event):
    """Raw check results for one endpoint of one meeting, from its technician (over
    inspection's HTTP API) or another system (an MCU probe, a monitoring tool)."""

    type: Literal["CheckSubmitted"] = "CheckSubmitted"
    meeting_id: str = Field(min_length=1, max_length=128)
    endpoint: Code
    items: dict[CheckItem, ItemResult] = Field(min_length=1)
    submitted_by: str = Field(min_length=1, max_length=200)
    submitted_at: UtcDatetime


# ---------------------------------------------------------------- calendar


class ReportKind(StrEnum):
    ANNUAL_ENDPOINT_REPORT = "annual_endpoint_report"
    PERIODIC_INSPECTION = "periodic_inspection"
    MEETING_RECORD = "meeting_record"


class ReportDue(Event):
    """Something is due from someone by a date: a year-end report, an inspection, minutes."""

    type: Literal["ReportDue"] = "ReportDue"
    report_id: str
    """Deterministic: the same due item always has the same id."""
    kind: ReportKind
    endpoint: Code | None = None
    unit: Code | None = None
    meeting_id: str | None = None
    period: str
    """What the report covers, e.g. `2026` or `2026-Q4`."""
    due_at: UtcDatetime
    rule: RuleRef


class ReportSubmitted(Event):
    """What a ReportDue asked for has been handed in (reminders for it stop)."""

    type: Literal["ReportSubmitted"] = "ReportSubmitted"
    report_id: str
    kind: ReportKind
    endpoint: Code | None = None
    unit: Code | None = None
    meeting_id: str | None = None
    submitted_by: str
    submitted_at: UtcDatetime


class InspectionPlan(Model):
    """When a periodic inspection (rule 4) is done, at which endpoints, with or without the
    line provider."""

    planned_at: UtcDatetime
    endpoints: list[Code] = Field(min_length=1, max_length=50)
    with_line_provider: bool


class InspectionScheduled(Event):
    """The IT department planned (or re-planned) a periodic inspection: every revision goes
    to the endpoints' technicians and, when it comes, the line provider, like a meeting's
    notice; whoever the previous plan named and this one does not is told it is off."""

    type: Literal["InspectionScheduled"] = "InspectionScheduled"
    inspection_id: str = Field(min_length=1, max_length=200)
    revision: int = Field(ge=1)
    period: str
    due_at: UtcDatetime
    plan: InspectionPlan
    previous: InspectionPlan | None = None
    rule: RuleRef
    """The lead time the plan kept (`notice.lead_time`)."""


class InspectionCancelled(Event):
    """A planned periodic inspection will not take place: its parties are told."""

    type: Literal["InspectionCancelled"] = "InspectionCancelled"
    inspection_id: str = Field(min_length=1, max_length=200)
    revision: int = Field(ge=0)
    period: str
    plan: InspectionPlan | None = None
    """The plan the parties were told of (None: it was never planned, nobody to tell)."""
    reason: str = Field(min_length=1, max_length=500)


class TokensRevoked(Event):
    """Every token `subject` holds that was issued before `not_before` is refused from now
    on, by every service (an account disabled, a password reset, "sign out everywhere",
    an integrating system disabled, an account's role, unit or endpoints changed)."""

    type: Literal["TokensRevoked"] = "TokensRevoked"
    subject: str = Field(min_length=1, max_length=128)
    """The token's `sub` claim: the account's username, or `system:<client_id>` for an
    integrating system's tokens."""
    not_before: UtcDatetime
    reason: Literal[
        "disabled",
        "password_reset",
        "password_changed",
        "signed_out_everywhere",
        "system_disabled",
        "rights_changed",
    ]


class AccessLinkPurpose(StrEnum):
    INVITE = "invite"
    """A new account without a password: the person chooses one."""
    RESET = "reset"
    """An operator reset the password: the person chooses a new one."""


class AccessLinkIssued(Event):
    """Mail `email` a one-time link to set a password (notification sends it)."""

    type: Literal["AccessLinkIssued"] = "AccessLinkIssued"
    subject: str = Field(min_length=1, max_length=128)
    display_name: str
    email: str
    purpose: AccessLinkPurpose
    link: str
    """The console page with the one-time token; valid until `expires_at`."""
    expires_at: UtcDatetime
    language: Language = "vi"


class NoticeDelivered(Event):
    """A meeting's written notice (rule 2) reached its recipient: the fact the year report's
    "notified at least the lead time ahead" counts. Published by notification once per
    notice, when its mail or webhook was accepted."""

    type: Literal["NoticeDelivered"] = "NoticeDelivered"
    notice_id: str = Field(min_length=1, max_length=400)
    meeting_id: str = Field(min_length=1, max_length=128)
    kind: Literal["meeting_notice", "meeting_changed"]
    recipient_role: str = Field(min_length=1, max_length=64)
    """`technician`, `host_unit`, `line_provider`, `power_company`, `it_department`…"""
    delivered_at: UtcDatetime
    notice_deadline: UtcDatetime | None = None
    """The latest time the lead-time rule allowed (start - lead time), when known."""
    on_time: bool | None = None
    """Delivered by `notice_deadline`; None when the deadline is unknown."""
    rule: RuleRef | None = None
    """The lead-time rule the notice was judged by."""


class NoticeAcknowledged(Event):
    """A recipient confirmed reading a meeting's written notice (its link was opened)."""

    type: Literal["NoticeAcknowledged"] = "NoticeAcknowledged"
    notice_id: str = Field(min_length=1, max_length=400)
    meeting_id: str = Field(min_length=1, max_length=128)
    acknowledged_at: UtcDatetime


# ---------------------------------------------------------------- provinces (tenants)

Tenant = Annotated[str, Field(min_length=2, max_length=32, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
"""A province's tenant code, e.g. `tuyen-quang`."""


class TenantMerged(Event):
    """Province `tenant` was merged into province `into` (or, `TenantRenamed`, took the
    new code): every service moves `tenant`'s documents under `into` (keeping
    `former_tenant`), renames the codes `units` / `endpoints` map (those that would collide
    with `into`'s), and refuses new requests naming `tenant` with `rule` (whose source
    is the decision that merged the provinces). Keyed by the former tenant."""

    type: Literal["TenantMerged"] = "TenantMerged"
    into: Tenant
    units: dict[str, Code] = Field(default_factory=dict)
    """Unit codes of `tenant` renamed under `into` (old -> new); the others keep theirs."""
    endpoints: dict[str, Code] = Field(default_factory=dict)
    """Endpoint codes renamed the same way."""
    accounts: dict[str, str] = Field(default_factory=dict)
    """Usernames renamed the same way (people sign in with the new one)."""
    rule: RuleRef
    """The decision (`tenant.merged` / `tenant.renamed`) and its legal source."""
    requested_by: str = Field(min_length=1, max_length=200)


class TenantRenamed(TenantMerged):
    """Province `tenant` now goes by `into` (e.g. `thua-thien-hue` -> `hue`): a merge into a
    province that had nothing yet; old links and feeds are redirected to the new code."""

    type: Literal["TenantRenamed"] = "TenantRenamed"  # type: ignore[assignment]


RequestId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]
"""A system's own id for a request (printable ASCII, no spaces): sending the same id again
is answered again, never registered twice."""


class MeetingSubmitted(Event):
    """An integrating system (a province's e-office) asks for a meeting, on its province's
    inbound topic `hnth.inbound.<tenant>`. Registration treats it exactly as `POST
    /meetings`: the same rules (directory, lead time, who may take the urgent path, own
    unit), the same idempotency (by `request_id`), then `MeetingRequested` as for a
    person. The answer comes on the system's own topic `hnth.inbound.<tenant>.replies.
    <system>` (no other system may read it), keyed by `request_id`: `SubmissionAccepted`
    or `SubmissionRefused`. The record carries the header `authorization: Bearer <the
    system's access token>` (client credentials on registration's `/auth/token`): without
    a token that names `system` and is valid now or was when the record was sent, the
    request is refused (401 `unauthenticated_system`). A request naming no system
    registered with the province has nobody to answer: it goes to the inbound topic's
    dead-letter topic with the reason, as does an envelope that does not decode (whose
    system is also told, when its request id, system and token still read)."""

    type: Literal["MeetingSubmitted"] = "MeetingSubmitted"
    request_id: RequestId
    system: str = Field(min_length=1, max_length=128)
    """The system's client id (`hnth system create`), as it signs in."""
    meeting: dict[str, object] = Field(
        description="The meeting, as the body of POST /meetings (`MeetingIn` in "
        "registration's OpenAPI document); a field it breaks is named in the refusal."
    )


class SubmissionAccepted(Event):
    """A system's request was registered (`meeting_id`); `repeated` when this answers a
    request id sent before (nothing new was registered)."""

    type: Literal["SubmissionAccepted"] = "SubmissionAccepted"
    request_id: RequestId
    system: str = Field(min_length=1, max_length=128)
    meeting_id: str = Field(min_length=1, max_length=64)
    repeated: bool = False


class BrokenRule(Model):
    """One rule a refused request breaks, as a 422's `errors[]` names it."""

    field: str
    rule: str
    source: str
    message_vi: str
    message_en: str


class SubmissionRefused(Event):
    """A system's request was refused and nothing was registered: the HTTP status the same
    request would get, its code, and (for broken rules) every rule with its source."""

    type: Literal["SubmissionRefused"] = "SubmissionRefused"
    request_id: RequestId
    system: str = Field(min_length=1, max_length=128)
    status: int = Field(ge=400, le=599)
    code: str
    message_vi: str
    message_en: str
    errors: tuple[BrokenRule, ...] = ()


AnyEvent = Annotated[
    MeetingRequested
    | MeetingChanged
    | MeetingCancelled
    | HoldDecided
    | SlotAssigned
    | SlotRejected
    | SlotReleased
    | SlotHeld
    | CheckSubmitted
    | CheckCompleted
    | ReportDue
    | ReportSubmitted
    | InspectionScheduled
    | InspectionCancelled
    | UnitUpdated
    | EndpointUpdated
    | EndpointGroupUpdated
    | ContactsUpdated
    | TokensRevoked
    | AccessLinkIssued
    | NoticeDelivered
    | NoticeAcknowledged
    | TenantMerged
    | TenantRenamed
    | MeetingSubmitted
    | SubmissionAccepted
    | SubmissionRefused,
    Field(discriminator="type"),
]
"""Every event type, told apart by its `type` field."""

EVENT_TYPES: dict[str, type[Event]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        MeetingRequested,
        MeetingChanged,
        MeetingCancelled,
        HoldDecided,
        SlotAssigned,
        SlotRejected,
        SlotReleased,
        SlotHeld,
        CheckSubmitted,
        CheckCompleted,
        ReportDue,
        ReportSubmitted,
        InspectionScheduled,
        InspectionCancelled,
        UnitUpdated,
        EndpointUpdated,
        EndpointGroupUpdated,
        ContactsUpdated,
        TokensRevoked,
        AccessLinkIssued,
        NoticeDelivered,
        NoticeAcknowledged,
        TenantMerged,
        TenantRenamed,
        MeetingSubmitted,
        SubmissionAccepted,
        SubmissionRefused,
    )
}

any_event: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)


def decode_event(body: bytes | str) -> Event:
    """Decode a message body into its event class; raises pydantic.ValidationError."""
    event: Event = any_event.validate_json(body)
    return event


def meetings_named(
    events: Iterable[Event], of: tuple[type[Event], ...] = (Event,)
) -> list[tuple[str, str]]:
    """(tenant, meeting id) of each event of the types `of` about one meeting, in order,
    once each."""
    named = ((e.tenant, getattr(e, "meeting_id", None)) for e in events if isinstance(e, of))
    return list(dict.fromkeys((t, m) for t, m in named if isinstance(m, str) and m))
