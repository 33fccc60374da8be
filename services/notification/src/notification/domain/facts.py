"""The facts about written notices that other services count (the year report's
"notified at least the lead time ahead" and "notices acknowledged"): a formal notice
delivered, and its first acknowledgement. A resend repeats a notice already counted, so
it causes no fact of its own; its acknowledgement counts for the notice it repeats.
Webhook deliveries to subscribed systems (e-office, calendars) are not notices to a
party and are not counted."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hnth_contracts import NoticeAcknowledged, NoticeDelivered, RuleRef
from notification.domain.notices import FORMAL_KINDS, Channel

PRODUCER = "notification"


def _counted(notice: Mapping[str, Any]) -> bool:
    return (
        notice.get("kind") in FORMAL_KINDS
        and bool(notice.get("meeting_id"))
        and not notice.get("resend_of")
        and notice.get("channel", Channel.EMAIL.value) == Channel.EMAIL.value
    )


def _about(notice: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    """The envelope and the notice's identity, as both facts carry them."""
    return {
        "tenant": notice["tenant"],
        "correlation_id": notice["meeting_id"],
        "producer": PRODUCER,
        "occurred_at": at,
        "notice_id": notice["_id"],
        "meeting_id": notice["meeting_id"],
    }


def delivered(notice: Mapping[str, Any], at: datetime) -> list[NoticeDelivered]:
    """The fact a formal notice's delivery at `at` is, judged against the meeting's
    notice deadline (start - `notice.lead_time`) when the notice knows it."""
    if not _counted(notice):
        return []
    deadline = (notice.get("data") or {}).get("notice_deadline")
    rule = notice.get("rule")
    return [
        NoticeDelivered.create(
            **_about(notice, at),
            kind=notice["kind"],
            recipient_role=notice.get("role") or "unknown",
            delivered_at=at,
            notice_deadline=deadline,
            on_time=(at <= deadline) if isinstance(deadline, datetime) else None,
            rule=RuleRef.model_validate(rule) if rule else None,
        )
    ]


def acknowledged(notice: Mapping[str, Any], at: datetime) -> list[NoticeAcknowledged]:
    """The fact the first acknowledgement of a formal notice is."""
    if not _counted(notice) or notice.get("acknowledged_at"):
        return []
    return [NoticeAcknowledged.create(**_about(notice, at), acknowledged_at=at)]
