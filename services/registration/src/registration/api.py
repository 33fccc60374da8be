"""Registration's HTTP routes (walking skeleton: register and read a meeting)."""

import uuid
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hnth_contracts import MeetingRequested
from hnth_contracts.policy import Policy
from hnth_kit.auth import Principal, Role, require
from hnth_kit.clock import Clock
from hnth_kit.errors import problem
from registration import domain
from registration.store import RegistrationStore, status_from


class MeetingIn(BaseModel):
    """Đăng ký cuộc họp / a meeting registration."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=500, description="Tên cuộc họp / title")
    host_unit: str = Field(min_length=1, max_length=64, description="Đơn vị chủ trì / host unit")
    chair: str = Field(min_length=1, max_length=200, description="Người chủ trì / chair")
    start: AwareDatetime = Field(description="Bắt đầu (có múi giờ) / start, with offset")
    end: AwareDatetime = Field(description="Kết thúc (có múi giờ) / end, with offset")
    main_endpoint: str = Field(min_length=1, max_length=64, description="Điểm cầu chính")
    endpoints: list[str] = Field(min_length=1, max_length=20000, description="Các điểm cầu")
    agenda: str | None = Field(default=None, max_length=10000, description="Nội dung / agenda")
    document_number: str | None = Field(default=None, max_length=100, description="Số công văn")
    document_date: date | None = Field(default=None, description="Ngày công văn")
    urgent_reason: str | None = Field(
        default=None, max_length=2000, description="Lý do họp khẩn (chỉ Sở TT&TT) / urgent reason"
    )


def build_router(
    store: RegistrationStore,
    policy_for: Callable[[str], Policy],
    clock: Clock,
    authenticate: Any,
    wake: Callable[[], None],
) -> APIRouter:
    router = APIRouter(tags=["meetings"])
    may_register = require(authenticate, Role.REGISTRAR, Role.OPERATOR)

    @router.post("/meetings", status_code=status.HTTP_201_CREATED, summary="Đăng ký cuộc họp")
    async def register(
        request: Request,
        body: MeetingIn,
        who: Annotated[Principal, Depends(may_register)],
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> dict[str, Any]:
        policy = policy_for(who.tenant)
        now = clock.now()
        urgent = bool(body.urgent_reason) and who.role is Role.OPERATOR
        violations = domain.check_meeting(
            body.start, body.end, policy=policy, now=now, urgent=urgent
        )
        if violations:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                {"errors": [v.__dict__ for v in violations]},
            )
        meeting_id = f"mtg-{uuid.uuid4().hex[:12]}"
        event = MeetingRequested.create(
            tenant=who.tenant,
            correlation_id=meeting_id,
            producer="registration",
            occurred_at=now,
            meeting_id=meeting_id,
            requested_by=who.subject,
            late_notice=domain.is_late_notice(body.start, policy=policy, now=now),
            **body.model_dump(),
        )
        document = {
            "_id": meeting_id,
            "tenant": who.tenant,
            "status": "requested",
            "late_notice": event.late_notice,
            "registered_at": now,
            "registered_by": who.subject,
            **event.model_dump(
                mode="python", include=set(MeetingIn.model_fields) - {"document_date"}
            ),
            "document_date": body.document_date.isoformat() if body.document_date else None,
        }
        if idempotency_key:
            document["idempotency_key"] = f"{who.subject}:{idempotency_key}"
        stored = await store.create_meeting(document, event)
        wake()
        return _public(stored, [])

    @router.get("/meetings/{meeting_id}", summary="Xem cuộc họp và diễn biến / a meeting")
    async def get_meeting(
        request: Request, meeting_id: str, who: Annotated[Principal, Depends(authenticate)]
    ) -> dict[str, Any]:
        meeting = await store.meeting(meeting_id)
        if meeting is None or meeting["tenant"] != who.tenant:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                problem(request, "not_found", "Không tìm thấy cuộc họp.", "No such meeting."),
            )
        return _public(meeting, await store.timeline(meeting_id))

    return router


def _public(meeting: dict[str, Any], timeline: list[dict[str, Any]]) -> dict[str, Any]:
    body = {k: v for k, v in meeting.items() if k not in ("_id", "idempotency_key")}
    body["id"] = meeting["_id"]
    body["status"] = status_from(timeline, meeting["status"])
    body["timeline"] = [
        {k: v for k, v in e.items() if k != "_id"} | {"event_id": e["_id"]} for e in timeline
    ]
    for entry in timeline:
        if entry["type"] == "SlotAssigned":
            body["slot"] = entry["slot"]
        if entry["type"] == "SlotRejected":
            body["rejection"] = entry["rejection"]
    return body
