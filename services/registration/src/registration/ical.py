"""iCalendar feeds (RFC 5545) that Outlook, Thunderbird or a phone can subscribe to.

One VEVENT per meeting with a stable UID, SEQUENCE = the meeting's revision, STATUS
TENTATIVE until scheduled, CONFIRMED once scheduled, CANCELLED when cancelled; times in
UTC (every client shows them in its own zone; X-WR-TIMEZONE names the province's, from
its policy).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from icalendar import Calendar
from icalendar import Event as VEvent

from registration.store import endpoints_of

PRODID = "-//HNTH Ops//Lich hop truc tuyen//VI"
STATUS = {"requested": "TENTATIVE", "scheduled": "CONFIRMED", "rejected": "CANCELLED"}


def uid(tenant: str, meeting_id: str) -> str:
    """The same UID the notification service puts on its invitations (meeting ids are
    unique within a province only, so the province is part of it)."""
    return f"{meeting_id}.{tenant}@hnth-ops"


def feed(
    name: str,
    meetings: Iterable[dict[str, Any]],
    now: datetime,
    timezone: str,
    at: Collection[str] = (),
) -> bytes:
    """A VCALENDAR named `name` with one VEVENT per meeting (each with its `status`);
    `timezone` is the province's (its policy's), a hint for clients; `at`: the endpoints
    the calendar is of, each event's place where the reader takes part in it."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", timezone)
    for meeting in meetings:
        calendar.add_component(_event(meeting, now, at))
    return calendar.to_ical()


def _event(meeting: dict[str, Any], now: datetime, at: Collection[str] = ()) -> VEvent:
    event = VEvent()
    event.add("uid", uid(meeting["tenant"], meeting["_id"]))
    event.add("sequence", meeting.get("revision", 0))
    event.add("dtstamp", now)
    event.add("dtstart", meeting["start"])
    event.add("dtend", meeting["end"])
    event.add("summary", meeting["title"])
    reaching = endpoints_of(meeting)
    mine = [e for e in reaching if e in at]
    if mine and meeting["main_endpoint"] not in mine:  # the reader takes part elsewhere
        event.add("location", f"Điểm cầu / endpoint: {', '.join(mine)}")
    else:
        event.add("location", f"Điểm cầu chính / main endpoint: {meeting['main_endpoint']}")
    lines = [
        f"Chủ trì / chair: {meeting['chair']}",
        f"Đơn vị chủ trì / host unit: {meeting['host_unit']}",
        f"Điểm cầu / endpoints: {', '.join(reaching)}",
    ]
    if meeting.get("document_number"):
        lines.append(f"Công văn / letter: {meeting['document_number']}")
    if meeting.get("agenda"):
        lines.append(f"Nội dung / agenda: {meeting['agenda']}")
    event.add("description", "\n".join(lines))
    status = "CANCELLED" if meeting.get("cancelled") else STATUS[meeting["status"]]
    event.add("status", status)
    return event
