"""The technical contact list, circulated (rule 5, "known to all"): when an endpoint's
technician or the province's standing contacts change, every technician of the province
gets the updated list.

A burst of changes (the IT department editing ten endpoints in a row) sends one list:
a change at `t` sets the province's timer for the window `t` falls in, due a window
after `t`; every later change of that window finds the same timer id, so the timer is
created once, and its notices are keyed by the timer id and each technician, so a
redelivered change or a second replica sends nothing twice. The list goes out as it
stands when the timer fires, so it carries every change of the window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hnth_contracts import DIRECTORY_LOAD, ContactsUpdated, EndpointUpdated, RuleRef, UnitUpdated
from notification.domain.notices import STANDING_ROLES, Kind, Notice, technician
from notification.domain.timers import TimerKind, TimerPlan

RULE = RuleRef(
    rule="directory.technician_list",
    source="HNTH Ops: Sở TT&TT (nay thuộc Sở KH&CN) „Tổng hợp danh sách các cán bộ kỹ thuật "
    "tham gia quản lý, vận hành Hệ thống HNTH và thông báo cho các điểm cầu, đơn vị liên quan "
    "biết“ (QĐ 345/QĐ-UBND 2017, seeds/001)",
)
"""What the notice cites: the same duty in every province (rule 5)."""
STALE_AFTER = timedelta(days=1)
"""A change older than this (a replay, a consumer far behind) circulates nothing: the
list it would have sent has been sent, or a newer change sends it."""
LIST_WINDOW = timedelta(minutes=5)
"""The changes of one window go out as one list, a window after the first of them."""
_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)

Snapshot = ContactsUpdated | UnitUpdated | EndpointUpdated


def entry_of(event: Snapshot) -> tuple[str, dict[str, Any]]:
    """The directory entry a snapshot event keeps: its key and fields."""
    if isinstance(event, ContactsUpdated):
        roles = {role: _contact(getattr(event, role)) for role in STANDING_ROLES}
        return f"{event.tenant}:contacts", roles
    if isinstance(event, UnitUpdated):
        fields = {"name": event.name, "active": event.active, "contact": _contact(event.contact)}
        return f"{event.tenant}:unit:{event.code}", fields
    fields = {
        "name": event.name,
        "unit": event.unit,
        "location": event.location,  # where the room is: a notice names it
        "active": event.active,
        "contact": _contact(event.technician),
    }
    return f"{event.tenant}:endpoint:{event.code}", fields


def _contact(contact: Any) -> dict[str, Any] | None:
    return contact.model_dump() if contact is not None else None


def changes_the_list(event: Snapshot, before: Mapping[str, Any] | None, now: datetime) -> bool:
    """Does this snapshot change what the list says: an endpoint's name, technician or
    being in use, or a standing contact? A unit's change does not (the list names
    endpoints); nor does the directory's first load, a repeat, or a change gone stale."""
    if isinstance(event, UnitUpdated) or event.correlation_id == DIRECTORY_LOAD:
        return False
    if now - event.occurred_at > STALE_AFTER:
        return False
    _, after = entry_of(event)
    if before is not None and before.get("occurred_at", _EPOCH) >= event.occurred_at:
        return False  # the entry is already this or newer: nothing changes now
    if before is None:
        return isinstance(event, ContactsUpdated) or after["contact"] is not None
    endpoint = ("name", "active", "contact")
    watched = STANDING_ROLES if isinstance(event, ContactsUpdated) else endpoint
    return any(before.get(k) != after.get(k) for k in watched)


def list_timer(tenant: str, changed_at: datetime, window: timedelta) -> TimerPlan:
    """The province's timer for the window `changed_at` falls in, due a whole window after
    the change: the window's first change sets it (later ones find its id taken), and it
    fires after the window has ended, so it sends every change of the window."""
    index = (changed_at - _EPOCH) // window
    return TimerPlan(
        f"{TimerKind.TECHNICIAN_LIST}:{tenant}:{index}",
        TimerKind.TECHNICIAN_LIST,
        changed_at + window,
        {},
    )


def plan_list(
    timer_id: str, tenant: str, entries: Sequence[Mapping[str, Any]], as_of: datetime
) -> list[Notice]:
    """The list as it stands `as_of`, to the technician of every endpoint in use.
    `entries`: the province's directory entries (`_id` = `entry_of`'s key, with fields)."""
    endpoints, contacts = [], {}
    for e in sorted(entries, key=lambda e: str(e["_id"])):
        kind, _, code = str(e["_id"]).removeprefix(f"{tenant}:").partition(":")
        if kind == "contacts":
            contacts = {r: e[r] for r in STANDING_ROLES if e.get(r)}
        elif kind == "endpoint" and e.get("active", True):
            tech = e.get("contact") or {}
            endpoints.append(
                {
                    "code": code,
                    "name": e.get("name") or code,
                    "technician": tech.get("person") or tech.get("name") or "",
                    "phone": tech.get("phone") or "",
                    "email": tech.get("email") or "",
                }
            )
    data = {"endpoints": endpoints, "contacts": contacts, "as_of": as_of}
    return [
        Notice(
            cause=timer_id,
            kind=Kind.TECHNICIAN_LIST,
            recipient=technician(e["code"]),
            tenant=tenant,
            rule=RULE,
            data=data,
        )
        for e in endpoints
        if e["technician"] or e["email"] or e["phone"]
    ]
