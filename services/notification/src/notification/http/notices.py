"""A meeting's notice history, an operator's resend of one notice, and a signed-in
recipient's acknowledgement of one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header

from hnth_kit.auth import Caller, Operator
from hnth_kit.mongo import Document
from notification.http.deps import UseCases

router = APIRouter(tags=["notices"])


def notice_view(n: Document) -> dict[str, Any]:
    """One line of a meeting's notice history: who, what, why, when sent, when acknowledged."""
    return {
        "id": n["_id"],
        "recipient": n["recipient"],
        "role": n["role"],
        "channel": n["channel"],
        "kind": n["kind"],
        "cause": n["cause"],
        "status": n["status"],
        "address": n.get("address"),
        "attempts": n.get("attempts", 0),
        "reason": n.get("failure_reason") or n.get("last_error"),
        "rule": n.get("rule"),
        "created_at": n.get("created_at"),
        "sent_at": n.get("sent_at"),
        # when a notice not delivered yet is tried again (a person reads "next try at 20:15")
        "next_attempt_at": n.get("next_attempt_at") if n["status"] == "pending" else None,
        "acknowledged_at": n.get("acknowledged_at"),
        "resend_of": n.get("resend_of"),
        # a later notice to the same recipient replaces it (the meeting changed, cancelled)
        "replaced_by": n.get("replaced_by"),
        "resent_by": n.get("resent_by"),
    }


@router.get(
    "/meetings/{meeting_id}/notices",
    summary="Lịch sử thông báo của cuộc họp / a meeting's notices",
)
async def notices(meeting_id: str, who: Caller, use: UseCases) -> list[dict[str, Any]]:
    return [notice_view(n) for n in await use.meeting_notices(who, meeting_id)]


@router.post(
    "/notices/{notice_id:path}/resend",
    status_code=202,
    summary="Gửi lại một thông báo / resend a notice (Sở KH&CN)",
)
async def resend(
    notice_id: str,
    who: Operator,
    use: UseCases,
    idempotency_key: Annotated[str, Header(description="One per resend request")] = "",
) -> dict[str, Any]:
    """A fresh delivery of the same notice to the same recipient over the same channel,
    as a notice of its own (cause: this notice and the request's Idempotency-Key): a retried
    request sends once, a new request sends again. A cancelled meeting's invitation
    or reminders are refused; its cancellation may be resent."""
    return notice_view(await use.resend(who, notice_id, idempotency_key))


@router.post(
    "/notices/{notice_id:path}/acknowledge",
    summary="Người nhận xác nhận đã nhận thông báo / its recipient acknowledges a notice",
)
async def acknowledge(notice_id: str, who: Caller, use: UseCases) -> dict[str, Any]:
    """What the e-mailed link does, for a recipient signed in as themselves (a technician
    a notice to their endpoint, a host unit's registrar one to their unit): the first time
    is kept."""
    return notice_view(await use.acknowledge_as(who, notice_id))
