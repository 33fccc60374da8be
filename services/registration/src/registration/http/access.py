"""Access requests for a meeting's materials, and the IT department's decisions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request, status

from hnth_kit.auth import Caller, Operator
from registration.http.deps import MaterialCases, policy
from registration.http.material_models import (
    AccessOut,
    AccessRequestIn,
    DecisionIn,
    RequestId,
    Verdict,
)
from registration.http.meetings import MeetingId
from registration.http.render import shown
from registration.views import answers, shaped

router = APIRouter(tags=["materials"], responses=answers(401, 403, 404, 409))


@router.post(
    "/meetings/{meeting_id}/access-requests",
    status_code=status.HTTP_201_CREATED,
    summary="Đề nghị cung cấp tài liệu / ask for access to the materials",
    **shaped(AccessOut),
)
async def ask(
    request: Request,
    meeting_id: MeetingId,
    body: AccessRequestIn,
    who: Caller,
    cases: MaterialCases,
) -> dict[str, Any]:
    return shown(await cases.ask(who, meeting_id, body.reason), policy(request, who))


@router.get(
    "/meetings/{meeting_id}/access-requests",
    summary="Các đề nghị và quyết định / requests and decisions (IT department)",
    **shaped(list[AccessOut]),
)
async def requests(
    request: Request, meeting_id: MeetingId, who: Operator, cases: MaterialCases
) -> list[dict[str, Any]]:
    province = policy(request, who)
    return [shown(r, province) for r in await cases.requests(who, meeting_id)]


@router.post(
    "/meetings/{meeting_id}/access-requests/{request_id}/{verdict}",
    summary="Đồng ý (grant) hoặc từ chối (refuse) / decide a request (IT department)",
    **shaped(AccessOut),
)
async def decide(
    request: Request,
    meeting_id: MeetingId,
    request_id: RequestId,
    verdict: Annotated[
        Verdict, Path(description="grant: đồng ý, refuse: từ chối / grant or refuse")
    ],
    who: Operator,
    cases: MaterialCases,
    body: Annotated[DecisionIn | None, Body()] = None,
) -> dict[str, Any]:
    granted, note = verdict is Verdict.GRANT, body.note if body else None
    decision = await cases.decide(who, meeting_id, request_id, granted, note)
    return shown(decision, policy(request, who))
