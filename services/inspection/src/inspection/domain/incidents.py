"""Incidents at an endpoint (what failed, when, how it was fixed), and the time rule of
every record people write: a time they give is never in the future."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hnth_contracts.rules import Breach
from inspection.domain import Document

FUTURE_RULE = "record.not_in_future"
RESOLVED_RULE = "incident.resolved_after_opened"
SEVERITIES = ("low", "medium", "high", "critical")


def in_future(field: str, when: datetime | None, now: datetime) -> Breach | None:
    """A recorded time (`when`; None means now) may not be later than now."""
    if when is None or when <= now:
        return None
    return Breach(
        FUTURE_RULE, field, "Thời điểm không được ở tương lai.", "The time cannot be in the future."
    )


def new_incident(
    incident_id: str,
    tenant: str,
    reported: Mapping[str, Any],
    opened_at: datetime,
    by: str,
) -> Document:
    """An open incident: what was `reported` (endpoint, meeting_id, what, severity)."""
    return {
        "_id": incident_id,
        "tenant": tenant,
        **reported,
        "opened_at": opened_at,
        "opened_by": by,
        "state": "open",
        "resolved_at": None,
        "resolved_by": None,
        "cause": None,
        "fix": None,
    }


def resolved_too_early(incident: Mapping[str, Any], at: datetime) -> Breach | None:
    """An incident is resolved after it opened."""
    if at >= incident["opened_at"]:
        return None
    return Breach(
        RESOLVED_RULE,
        "resolved_at",
        "Thời điểm khắc phục phải sau thời điểm xảy ra sự cố.",
        "An incident is resolved after it opened.",
    )


def resolution(cause: str, fix: str, at: datetime, by: str) -> Document:
    """The changes that resolve an open incident."""
    return {"state": "resolved", "resolved_at": at, "resolved_by": by, "cause": cause, "fix": fix}
