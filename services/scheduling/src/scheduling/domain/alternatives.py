"""The nearest free windows offered with a rejection."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from hnth_contracts import Window, rules
from hnth_contracts.policy import Bridge, Policy
from hnth_contracts.rules import zone
from scheduling.domain import cascade, hours
from scheduling.domain.buckets import BUCKET, buckets, reserved_window
from scheduling.domain.conflicts import Occupancy
from scheduling.domain.requests import Request

ALTERNATIVES = 3
ALTERNATIVE_HORIZON = timedelta(days=2)
"""How far before and after the requested start alternatives are looked for."""


def is_free(
    request: Request,
    window: Window,
    occupancy: Occupancy,
    bridges: Sequence[Bridge],
    *,
    cascaded: bool = False,
) -> bool:
    """Every endpoint free (or held by this meeting) and one bridge with enough free
    ports in every bucket of the reserved `window`, as far as `occupancy` knows; or,
    `cascaded`, the bridges together (their fewest free ports in the window, cascaded)."""
    spans = buckets(window)
    for room in request.rooms:
        for bucket in spans:
            holder = occupancy.endpoints.get((room, bucket))
            if holder is not None and holder.meeting_id != request.meeting_id:
                return False
    free = [min(occupancy.free_ports.get((b.name, bucket), 0) for bucket in spans) for b in bridges]
    if cascaded:
        return cascade.capacity(free) >= request.ports
    return any(f >= request.ports for f in free)


def distinct(candidate: Window, offered: Sequence[Window]) -> bool:
    """An alternative overlaps none already offered: 12:15, 12:30 and 12:45 for a two-hour
    meeting are one choice, not three."""
    return all(candidate.end <= w.start or w.end <= candidate.start for w in offered)


def notice_lead(request: Request, policy: Policy) -> timedelta:
    """How far ahead an offered time must be for the notices (rule 2): a meeting called
    from above keeps the national lead time, an urgent one none (it was let in inside the
    lead time), any other the province's: a time the clerk could not book is no offer."""
    if request.external_host:
        return policy.duration(rules.NATIONAL)
    if request.urgent_reason:
        return timedelta(0)
    return policy.duration("notice.lead_time")


def alternative_candidates(
    request: Request, policy: Policy, now: datetime, avoid: Window | None = None
) -> list[Window]:
    """Meeting windows of the same length, a bucket apart, nearest to the request first
    (earlier before later on a tie), none whose reserved window starts before `now` or
    inside the notice lead time (`notice_lead`), nor
    (`avoid`: the slot a meeting that displaced this one is taking) overlaps `avoid`, nor
    outside the hours it keeps to (`hours.kept_for_alternatives`: office hours for a
    meeting asked for inside them)."""
    steps = ALTERNATIVE_HORIZON // BUCKET
    setup = policy.duration("slot.setup_buffer")
    tz = zone(policy)
    kept = hours.kept_for_alternatives(policy, request.start, request.end, tz)
    earliest = now + notice_lead(request, policy)
    out: list[Window] = []
    for n in range(1, steps + 1):
        for shift in (-n * BUCKET, n * BUCKET):
            start = request.start + shift
            window = Window(start=start, end=start + request.length)
            if start - setup < now or start < earliest:
                continue
            if not all(hours.within_hours(start, window.end, h, tz) for h in kept):
                continue
            reserved = reserved_window(start, window.end, policy)
            if avoid is None or reserved.end <= avoid.start or avoid.end <= reserved.start:
                out.append(window)
    return out
