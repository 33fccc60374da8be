"""Quality feedback after a meeting (rule 9): each endpoint's technician rates line,
audio and video, the host unit the meeting overall; one per endpoint (and one from the
host) per meeting, a later one replacing it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from inspection.domain import Document
from inspection.domain.checklists import meeting_id_of

ASPECTS = ("line", "audio", "video")
"""What an endpoint's technician rates after a meeting, 1 (bad) to 5 (very good)."""
HOST = "host"
"""The host unit's overall rating of the meeting (one per meeting)."""


def feedback_id(tenant: str, meeting_id: str, endpoint: str | None) -> str:
    """One feedback per endpoint per meeting (and one from the host): a change replaces it."""
    return f"{tenant}:{meeting_id}:{endpoint or HOST}"


def feedback_entry(
    meeting: Mapping[str, Any],
    *,
    endpoint: str | None,
    scores: Mapping[str, int],
    comment: str,
    by: str,
    now: datetime,
) -> Document:
    """The feedback as stored: an endpoint's line/audio/video, or the host unit's overall
    rating (`endpoint` None), with what the report groups it by."""
    return {
        "_id": feedback_id(meeting["tenant"], meeting_id_of(meeting), endpoint),
        "tenant": meeting["tenant"],
        "meeting_id": meeting_id_of(meeting),
        "meeting_start": meeting["start"],
        "kind": "endpoint" if endpoint else HOST,
        "endpoint": endpoint,
        "unit": meeting.get("host_unit") if endpoint is None else None,
        **{k: int(v) for k, v in scores.items()},
        "comment": comment,
        "by": by,
        "at": now,
    }


def feedback_refusal(
    meeting: Mapping[str, Any] | None, endpoint: str | None, cancelled: bool, now: datetime
) -> tuple[int, str, str, str] | None:
    """Why feedback cannot be given now (status, code, vi, en), or None: the meeting must
    be known, held (not cancelled), over, and the endpoint one of its participants."""
    if meeting is None or "end" not in meeting:
        return 404, "not_found", "Không tìm thấy cuộc họp.", "No such meeting."
    if cancelled:
        return 409, "cancelled", "Cuộc họp đã bị hủy.", "The meeting was cancelled."
    if now < meeting["end"]:
        return (
            409,
            "not_over",
            "Chỉ đánh giá chất lượng sau khi cuộc họp kết thúc.",
            "Quality is rated after the meeting ends.",
        )
    if endpoint is not None and endpoint not in meeting["endpoints"]:
        return (
            404,
            "unknown_endpoint",
            f"Điểm cầu {endpoint} không tham gia cuộc họp.",
            f"Endpoint {endpoint} did not take part in the meeting.",
        )
    return None
