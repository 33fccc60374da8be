"""Events the kit tests publish."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hnth_contracts import MeetingCancelled


def cancelled(meeting_id: str, n: int = 0) -> MeetingCancelled:
    return MeetingCancelled.create(
        tenant="tuyen-quang",
        correlation_id=meeting_id,
        producer="kit-test",
        meeting_id=meeting_id,
        reason=f"reason {n}",
        occurred_at=datetime(2026, 11, 23, tzinfo=UTC) + timedelta(seconds=n),
    )
