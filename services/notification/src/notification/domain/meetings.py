"""This service's copy of a meeting, as its latest `SlotAssigned` describes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hnth_contracts import SlotAssigned


@dataclass(frozen=True)
class Share:
    """One bridge's part of a cascaded meeting: its endpoints, ports and own dial-in."""

    bridge: str
    endpoints: tuple[str, ...]
    ports: int
    dial_in: str
    host: bool = False

    def data(self) -> dict[str, Any]:
        return {
            "bridge": self.bridge,
            "endpoints": list(self.endpoints),
            "ports": self.ports,
            "dial_in": self.dial_in,
            "host": self.host,
        }


def share_from(value: dict[str, Any]) -> Share:
    """A share as stored."""
    return Share(**{**value, "endpoints": tuple(value["endpoints"])})


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
    document_number: str | None = None
    """The host unit's official letter (số công văn), when the request named one."""
    document_date: str | None = None
    """Its date, ISO `YYYY-MM-DD` (kept as text: a date alone is no BSON type)."""
    cascade: tuple[Share, ...] = ()
    """Each bridge's share when the meeting is cascaded (the host's first); empty otherwise."""
    released: bool = False
    """Its slot was taken by a higher-priority meeting (`SlotReleased(preempted)`): no
    reminder for this revision; a later assignment (a move) is a new revision."""
    backup: dict[str, str] | None = None
    """The last-hour switch this revision made (`replaced`, `backup`, `reason`), if any."""
    was: dict[str, Any] | None = None
    """What the latest change changed: the title and time before it (`title`, `start`,
    `end`), the endpoints it `added` and `removed`, and why (`reason`, if said); kept, as
    `removed_endpoints` is, so a replay of the revision plans the same notices. None for a
    meeting never changed."""

    def share_of(self, endpoint: str) -> Share | None:
        """The bridge share an endpoint connects to, when the meeting is cascaded."""
        return next((s for s in self.cascade if endpoint in s.endpoints), None)

    def data(self, endpoint: str | None = None) -> dict[str, Any]:
        """What templates and webhooks are told about the meeting. For an endpoint's
        technician: the bridge and dial-in its endpoint connects to (its own bridge's when
        the meeting is cascaded), without the other bridges' shares."""
        share = self.share_of(endpoint) if endpoint else None
        if share is not None:
            return {
                **self._data(),
                "bridge": share.bridge,
                "dial_in": share.dial_in,
                "cascade": [],
            }
        return self._data()

    def _data(self) -> dict[str, Any]:
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
            "document_number": self.document_number,
            "document_date": self.document_date,
            "host_bridge": self.bridge,
            "cascade": [s.data() for s in self.cascade],
            "backup": self.backup,
            "was": self.was,
        }


def meeting_from_slot(event: SlotAssigned, previous: Meeting | None) -> Meeting:
    """The meeting as this assignment describes it, and what it changed against the one
    before. Replaying the same revision keeps what the change changed, so a re-run plans
    exactly the same notices."""
    was: dict[str, Any] | None = None
    if previous is None:
        removed: tuple[str, ...] = ()
    elif previous.revision == event.revision:
        removed, was = previous.removed_endpoints, previous.was
    else:
        removed = tuple(e for e in previous.endpoints if e not in event.endpoints)
        added = [e for e in event.endpoints if e not in previous.endpoints]
        was = {"title": previous.title, "start": previous.start, "end": previous.end}
        was["added"] = added
        was["removed"] = list(removed)
        was["reason"] = event.change_reason
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
        document_number=event.document_number,
        document_date=event.document_date.isoformat() if event.document_date else None,
        cascade=tuple(
            Share(s.bridge, tuple(s.endpoints), s.ports, s.dial_in, s.host)
            for s in event.slot.cascade
        ),
        backup=event.backup.model_dump(include={"replaced", "backup", "reason"})
        if event.backup
        else None,
        was=was,
    )


def is_stale(event_revision: int, current: Meeting | None) -> bool:
    """An assignment older than the one already known changes nothing."""
    return current is not None and event_revision < current.revision


def is_late(meeting: Meeting, now: datetime) -> bool:
    """Accepted inside the notice lead time (scheduling's flag), or already past it."""
    return meeting.late_notice or meeting.notice_deadline <= now


def assignment_cause(meeting: Meeting) -> str:
    return f"assigned:{meeting.tenant}:{meeting.meeting_id}:{meeting.revision}"


def cancellation_cause(tenant: str, meeting_id: str) -> str:
    """One cancellation per meeting, whichever event (MeetingCancelled, SlotReleased) says so."""
    return f"cancelled:{tenant}:{meeting_id}"
