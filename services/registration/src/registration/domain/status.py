"""A meeting's status, from what happened to it: scheduling's decisions and cancellation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Decision:
    """A scheduling decision on the meeting's timeline."""

    kind: str
    """`SlotAssigned`, `SlotRejected` or `SlotReleased`."""
    revision: int
    released_for_change: bool = False
    """A SlotReleased because a changed slot replaced it: the meeting still holds a slot."""


def status_of(cancelled: bool, revision: int, decisions: Sequence[Decision]) -> str:
    """`cancelled`, `scheduled`, `held` (waiting for an operator), `rejected` or `requested`.

    A change that is rejected leaves the earlier slot in place (scheduling keeps it), so a
    meeting that once got a slot stays `scheduled` until the slot is released."""
    if cancelled:
        return "cancelled"
    current = [
        d
        for d in decisions
        if d.revision == revision and d.kind in ("SlotAssigned", "SlotRejected", "SlotHeld")
    ]
    held = _slot_held(decisions)
    if current and current[-1].kind == "SlotAssigned":
        return "scheduled"
    if held:
        return "scheduled"
    if current and current[-1].kind == "SlotHeld":
        return "held"
    if current:
        return "rejected"
    return "requested"


def _slot_held(decisions: Sequence[Decision]) -> bool:
    held = False
    for decision in decisions:
        if decision.kind == "SlotAssigned":
            held = True
        elif decision.kind == "SlotReleased" and not decision.released_for_change:
            held = False
    return held


APPROVAL = "schedule.approval"


def preemptible(entries: Sequence[Mapping[str, Any]], revision: int) -> tuple[str, ...]:
    """The lower-priority meetings that alone refused the meeting's `revision`, as its
    rejection names them (`SlotRejected.preemptible`): what an operator may pre-empt."""
    for entry in reversed(entries):
        if entry.get("type") == "SlotRejected" and entry.get("revision") == revision:
            return tuple(entry.get("rejection", {}).get("preemptible") or ())
    return ()


def hold_decision(meeting: Mapping[str, Any], revision: int) -> Mapping[str, Any] | None:
    """The operator's decision on the meeting's held `revision`, if one was taken."""
    hold = meeting.get("hold")
    return hold if hold and hold.get("revision") == revision else None
