"""Time cut into buckets of `BUCKET` (15 minutes, counted from the Unix epoch in UTC).

A meeting occupies each of its endpoints, and one bridge port per endpoint, in every bucket
its reserved window (meeting widened by the setup and teardown buffers) touches: windows
are rounded OUTWARD to bucket edges, so two meetings whose reserved windows come within
the same 15 minutes conflict even if they do not strictly overlap (conservative, never
the other way round). The store turns each (resource, bucket) into a unique claim.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from hnth_contracts import Window
from hnth_contracts.policy import Policy

BUCKET = timedelta(minutes=15)
"""Reservation granularity: small enough for real agendas, coarse enough to keep claims few."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def reserved_window(start: datetime, end: datetime, policy: Policy) -> Window:
    """The meeting widened by the setup (T-1h checks) and teardown buffers."""
    return Window(
        start=start - policy.duration("slot.setup_buffer"),
        end=end + policy.duration("slot.teardown_buffer"),
    )


def bucket_of(moment: datetime) -> int:
    return (moment - EPOCH) // BUCKET


def bucket_start(bucket: int) -> datetime:
    return EPOCH + bucket * BUCKET


def buckets(window: Window) -> range:
    """The buckets a window touches, rounded outward (start down, end up)."""
    first = bucket_of(window.start)
    last = -((EPOCH - window.end) // BUCKET)  # ceiling division
    return range(first, last)


def port_order(meeting_id: str, ports: int) -> list[int]:
    """The order a meeting tries port numbers in: a stable per-meeting rotation, so
    concurrent meetings rarely race for the same port token."""
    offset = int.from_bytes(hashlib.sha256(meeting_id.encode()).digest()[:4], "big") % ports
    return [(offset + n) % ports for n in range(ports)]
