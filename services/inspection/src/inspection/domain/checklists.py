"""Readiness checklists (rule 3): one per endpoint of a meeting, due at T-1h, opened,
moved and closed by the meeting's SlotAssigned revisions.

A checklist's history is an append-only list of results (`check_results`, see
`checks`): a round starts when the checklist opens or its deadline moves (a changed
meeting): results of an earlier round no longer say the room is ready for the new time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hnth_contracts import CheckItem, RuleRef, SlotAssigned
from inspection.domain import Document

ITEMS: tuple[str, ...] = tuple(item.value for item in CheckItem)
CHECK_RULE = "check.lead_time"
"""The policy rule that sets the check deadline (rule 3: done by start - 1 h)."""


def meeting_key(tenant: str, meeting_id: str) -> str:
    """A meeting's key here: two provinces' e-office systems may number meetings alike.
    (Meetings stored before this are keyed by their id alone and keep that key, which
    their checklists' and timers' ids start with.)"""
    return f"{tenant}:{meeting_id}"


def meeting_id_of(record: Mapping[str, Any]) -> str:
    return str(record.get("meeting_id") or record["_id"])


def checklist_id(meeting: str, endpoint: str) -> str:
    """`meeting`: the meeting's key (its record's `_id`)."""
    return f"{meeting}:{endpoint}"


def result_id(checklist_id: str, seq: int) -> str:
    return f"{checklist_id}#{seq:05d}"


def deadline_timer_id(meeting: str, revision: int, due_at: datetime) -> str:
    """One timer per meeting revision and check deadline: it decides `missed` for every
    endpoint. The revision is in the id because a cancelled timer stays cancelled (the
    kit keeps it so a second `schedule` is a no-op): a meeting moved away and back to
    its first time needs a new timer, not the cancelled one."""
    return f"missed:{meeting}:r{revision}:{due_at.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def legacy_timer_id(meeting_id: str, due_at: datetime) -> str:
    """The id checklists written before the revision was in it used (no `timer` field)."""
    return f"missed:{meeting_id}:{due_at.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def timer_of(checklist: Mapping[str, Any]) -> str:
    found = checklist.get("timer")
    return str(found) if found else legacy_timer_id(checklist["meeting_id"], checklist["due_at"])


def timers_to_cancel(existing: Sequence[Document], keep: str) -> set[str]:
    """The deadline timers of earlier revisions: every one but the one now scheduled."""
    return {timer_of(c) for c in existing} - {keep}


def by_opening(slot: SlotAssigned, existing: Sequence[Document]) -> dict[str, str]:
    """The backups a last-hour switch brought in, each with the endpoint it replaced: their
    check is due by the opening, since the usual deadline had passed when they were
    switched to (rule 3's hour is what the switch makes up for). The backup this revision
    switches to, and those an earlier switch brought in (their open checklist remembers it
    in `backup_for`) while the meeting's start is unchanged and they are still in it: a
    later change (the end moved) does not put their deadline back to T-1h, already past."""
    start = slot.slot.meeting.start
    found = {
        c["endpoint"]: str(c["backup_for"])
        for c in existing
        if c.get("backup_for") and not c["closed"] and c["meeting_start"] == start
    }
    if slot.backup is not None:
        found[slot.backup.backup] = slot.backup.replaced
    return {code: replaced for code, replaced in found.items() if code in slot.endpoints}


def opening_timer(slot: SlotAssigned, key: str | None = None) -> str:
    """The timer that decides `missed` at the opening for the backups switched to."""
    key = key or meeting_key(slot.tenant, slot.meeting_id)
    return deadline_timer_id(key, slot.revision, slot.slot.meeting.start)


def check_rule(slot: SlotAssigned, policy_ref: RuleRef) -> RuleRef:
    """The check-deadline rule as scheduling cited it on the slot, else from the policy."""
    return next((r for r in slot.rules if r.rule == CHECK_RULE), policy_ref)


def missed_marker(checklist: Mapping[str, Any]) -> str:
    """At most one `missed` per checklist and round, whichever replica or timer decides."""
    return f"missed:{checklist['_id']}:{checklist['round']}"


@dataclass
class ChecklistPlan:
    """What a SlotAssigned does to a meeting's checklists (re-running it changes nothing)."""

    open: list[Document] = field(default_factory=list)
    reopen: list[Document] = field(default_factory=list)
    """Checklists whose deadline moved (or that come back): a new round, state pending."""
    keep: list[Document] = field(default_factory=list)
    close: list[Document] = field(default_factory=list)
    opening: dict[str, str] = field(default_factory=dict)
    """The backups checked by the opening (`by_opening`), each with the endpoint it replaced."""
    stale: bool = False
    """An older revision than the one applied: nothing to do."""


def plan_checklists(
    slot: SlotAssigned,
    existing: Sequence[Document],
    now: datetime,
    rule: RuleRef,
    key: str | None = None,
) -> ChecklistPlan:
    """Open one checklist per endpoint, move those whose deadline changed, close the
    endpoints the meeting no longer uses. Each names the deadline's `rule` and source;
    `key`: the meeting's record's (None: `meeting_key`, a meeting new here)."""
    applied = max((c["revision"] for c in existing), default=-1)
    if slot.revision < applied:
        return ChecklistPlan(stale=True)
    plan = ChecklistPlan()
    key = key or meeting_key(slot.tenant, slot.meeting_id)
    by_endpoint = {c["endpoint"]: c for c in existing}
    common = {
        "revision": slot.revision,
        "due_at": slot.check_deadline,
        "meeting_start": slot.slot.meeting.start,
        "meeting_end": slot.slot.meeting.end,
        "title": slot.title,
        "host_unit": slot.host_unit,
        "closed": False,
        "closed_reason": None,
        "timer": deadline_timer_id(key, slot.revision, slot.check_deadline),
        "rule": rule.model_dump(),
        "policy": slot.policy,
        "backup_for": None,
    }
    backups = plan.opening = by_opening(slot, existing)
    opening = {"due_at": slot.slot.meeting.start, "timer": opening_timer(slot, key)}
    for code in dict.fromkeys(slot.endpoints):
        current = by_endpoint.get(code)
        if code in backups:
            common_here = {**common, **opening, "backup_for": backups[code]}
        else:
            common_here = common
        if current is None:
            plan.open.append(
                {
                    "_id": checklist_id(key, code),
                    "tenant": slot.tenant,
                    "meeting_id": slot.meeting_id,
                    "endpoint": code,
                    "round": slot.revision,
                    "opened_at": now,
                    **common_here,
                }
            )
        elif current["closed"] or current["due_at"] != common_here["due_at"]:
            plan.reopen.append({**current, **common_here, "round": slot.revision})
        else:
            plan.keep.append({**current, **common_here})
    wanted = set(slot.endpoints)
    plan.close = [c for c in existing if c["endpoint"] not in wanted and not c["closed"]]
    return plan


def meeting_record(slot: SlotAssigned, endpoints: Sequence[str], key: str) -> Document:
    """What this service keeps of a meeting: its time, host and every endpoint it has had
    (`endpoints`, the known ones first), so its checklists are found by id; its title and
    official letter (số, ngày công văn) for the year report's list of meetings."""
    return {
        "_id": key,
        "meeting_id": slot.meeting_id,
        "tenant": slot.tenant,
        "revision": slot.revision,
        "host_unit": slot.host_unit,
        "start": slot.slot.meeting.start,
        "end": slot.slot.meeting.end,
        "endpoints": list(dict.fromkeys(endpoints)),
        "title": slot.title,
        "document_number": slot.document_number,
        "document_date": slot.document_date.isoformat() if slot.document_date else None,
    }
