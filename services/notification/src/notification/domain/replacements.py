"""Which of a meeting's notices a later one replaces: a recipient told of the meeting at
revision 0, then of its change at revision 1, then of its cancellation holds three
notices, and only the last says how things stand. An earlier one is neither resent (it
would announce the old time as news) nor acknowledged (its link points to the newer)."""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from notification.domain.notices import CALENDAR_KINDS

LIFECYCLE = frozenset(CALENDAR_KINDS)
"""The notices that say how a meeting stands for their recipient (not reminders, alerts
or escalations, which are about a moment, not the meeting's state)."""


def order_of(cause: str) -> tuple[int, int] | None:
    """Where a cause stands in the meeting's life: its assignment at revision r, then its
    displacement at r (a change may still place it again at r + 1), its cancellation
    last; None for a cause that is not a step of the meeting's life."""
    step, _, rest = cause.partition(":")
    if step == "cancelled":
        return (sys.maxsize, 0)
    revision = rest.rsplit(":", 1)[-1]
    if step in ("assigned", "preempted") and revision.isdecimal():
        return (int(revision), 0 if step == "assigned" else 1)
    return None


def replaced_by(notices: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Notice id -> the id of the latest notice to the same recipient by the same channel
    that replaces it, for each of a meeting's `notices` a later one replaces (a resend
    stands where the notice it repeats stands)."""
    steps: dict[tuple[str, str], list[tuple[tuple[int, int], Mapping[str, Any]]]]
    steps = defaultdict(list)
    for notice in notices:
        original = notice.get("resend_of")
        cause = str(original).split("|", 1)[0] if original else str(notice.get("cause"))
        order = order_of(cause)
        if order is not None and notice.get("kind") in LIFECYCLE:
            steps[(str(notice["recipient"]), str(notice["channel"]))].append((order, notice))
    found: dict[str, str] = {}
    for listed in steps.values():
        last = max(order for order, _ in listed)
        latest = [n for order, n in listed if order == last and not n.get("resend_of")]
        if not latest:
            continue  # only a resend of the latest is listed (its original is elsewhere)
        for order, notice in listed:
            if order < last:
                found[str(notice["_id"])] = str(latest[0]["_id"])
    return found
