"""Meeting routes: register, list, read, change, cancel, book a rehearsal; an operator
approves or rejects a held meeting (`schedule.approval: operator`), moves a meeting, lets a
meeting refused only by lower-priority ones pre-empt them (`meeting.priorities`) and, in
its last hour, switches a failing endpoint to its backup."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response, status

from hnth_contracts.envelope import UtcDatetime
from hnth_contracts.rules import zone
from hnth_kit.auth import Caller, Operator
from registration.commands import (
    CancelIn,
    MeetingIn,
    MeetingPatch,
    MoveIn,
    PreemptIn,
    RehearsalIn,
    RejectIn,
    SwitchBackupIn,
)
from registration.http.deps import AccountCases, MeetingCases, Registrar, policy
from registration.http.render import people_in, public, rehearsal_view
from registration.paging import decode_cursor, encode_cursor
from registration.usecases.meetings import Shown
from registration.views import MeetingOut, MeetingPage, Status, local, shaped

router = APIRouter(tags=["meetings"])

MeetingId = Annotated[str, Path(max_length=128, description="Mã cuộc họp / meeting id")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=200,
        description="Khóa gửi lại an toàn: gửi lại cùng khóa trả về cùng cuộc họp / "
        "safe retries: the same key returns the same meeting",
    ),
]


def _rendered(request: Request, who: Any, shown: Shown) -> dict[str, Any]:
    province = policy(request, who)
    body = public(shown.meeting, shown.timeline, province)
    if shown.rehearsals is not None:
        body["rehearsals"] = [rehearsal_view(r, province) for r in shown.rehearsals]
    return body


@router.post(
    "/meetings",
    status_code=status.HTTP_201_CREATED,
    summary="Đăng ký cuộc họp / register a meeting",
    **shaped(MeetingOut, 400, 401, 403, 409, 413),
)
async def register(
    request: Request,
    response: Response,
    body: MeetingIn,
    who: Registrar,
    cases: MeetingCases,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    shown = await cases.register(who, body, idempotency_key)
    if not shown.created:
        response.status_code = status.HTTP_200_OK
    return _rendered(request, who, shown)


@router.get(
    "/meetings",
    summary="Danh sách cuộc họp / list meetings",
    **shaped(MeetingPage, 400, 401, 403),
)
async def list_meetings(
    request: Request,
    who: Caller,
    cases: MeetingCases,
    unit: Annotated[
        str | None,
        Query(max_length=64, description="Mã đơn vị chủ trì / host unit code"),
    ] = None,
    endpoint: Annotated[
        str | None,
        Query(max_length=64, description="Mã điểm cầu tham gia / participating endpoint code"),
    ] = None,
    start_from: Annotated[
        UtcDatetime | None,
        Query(alias="from", description="Bắt đầu từ (có múi giờ) / starting from, with offset"),
    ] = None,
    start_to: Annotated[
        UtcDatetime | None,
        Query(alias="to", description="Bắt đầu trước (có múi giờ) / starting before"),
    ] = None,
    status_filter: Annotated[
        Status | None,
        Query(
            alias="status",
            description="Trạng thái: requested, held, scheduled, rejected, cancelled / status",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Số mục / page size")] = 50,
    cursor: Annotated[
        str | None,
        Query(max_length=300, description="Trang sau (next_cursor) / next page"),
    ] = None,
) -> dict[str, Any]:
    after = decode_cursor(request, cursor)
    query = await cases.query(who, unit, endpoint, start_from, start_to, after)
    page = await cases.page(query, status_filter, limit)
    province = policy(request, who)
    items = []
    for meeting in page.meetings:
        item = public(meeting, None, province, page.statuses[meeting["_id"]])
        item["slot"] = local(page.slots[meeting["_id"]], zone(province))  # its bridge
        items.append(item)
    return {"items": items, "next_cursor": encode_cursor(page.after) if page.more else None}


@router.get(
    "/meetings/{meeting_id}",
    summary="Cuộc họp và diễn biến / a meeting, timeline",
    **shaped(MeetingOut, 401, 403, 404),
)
async def get_meeting(
    request: Request,
    meeting_id: MeetingId,
    who: Caller,
    cases: MeetingCases,
    accounts: AccountCases,
) -> dict[str, Any]:
    shown = await cases.read(who, meeting_id)
    body = _rendered(request, who, shown)
    body["people"] = await accounts.names(who, people_in(shown.timeline or []))
    return body


@router.patch(
    "/meetings/{meeting_id}",
    summary="Thay đổi cuộc họp / change a meeting",
    **shaped(MeetingOut, 400, 401, 403, 404, 409, 413),
)
async def change(
    request: Request, meeting_id: MeetingId, body: MeetingPatch, who: Registrar, cases: MeetingCases
) -> dict[str, Any]:
    return _rendered(request, who, await cases.change(who, meeting_id, body))


@router.post(
    "/meetings/{meeting_id}/cancel",
    summary="Hủy cuộc họp / cancel a meeting",
    **shaped(MeetingOut, 400, 401, 403, 404, 409, 413),
)
async def cancel(
    request: Request,
    meeting_id: MeetingId,
    who: Registrar,
    cases: MeetingCases,
    body: Annotated[CancelIn | None, Body()] = None,
) -> dict[str, Any]:
    return _rendered(request, who, await cases.cancel(who, meeting_id, body))


@router.post(
    "/meetings/{meeting_id}/approve",
    summary="Duyệt cuộc họp đang giữ chỗ / approve a held meeting",
    **shaped(MeetingOut, 401, 403, 404, 409),
)
async def approve(
    request: Request, meeting_id: MeetingId, who: Operator, cases: MeetingCases
) -> dict[str, Any]:
    return _rendered(request, who, await cases.decide_hold(who, meeting_id, None))


@router.post(
    "/meetings/{meeting_id}/reject",
    summary="Không duyệt cuộc họp đang giữ chỗ / reject a held meeting",
    **shaped(MeetingOut, 400, 401, 403, 404, 409),
)
async def reject(
    request: Request, meeting_id: MeetingId, body: RejectIn, who: Operator, cases: MeetingCases
) -> dict[str, Any]:
    return _rendered(request, who, await cases.decide_hold(who, meeting_id, body))


@router.post(
    "/meetings/{meeting_id}/move",
    summary="Dời cuộc họp / move a meeting (operator)",
    **shaped(MeetingOut, 400, 401, 403, 404, 409, 413),
)
async def move(
    request: Request, meeting_id: MeetingId, body: MoveIn, who: Operator, cases: MeetingCases
) -> dict[str, Any]:
    return _rendered(request, who, await cases.move(who, meeting_id, body))


@router.post(
    "/meetings/{meeting_id}/rehearsals",
    status_code=status.HTTP_201_CREATED,
    summary="Đặt buổi tổng duyệt / book a rehearsal of the meeting",
    **shaped(MeetingOut, 400, 401, 403, 404, 409, 413),
)
async def book_rehearsal(
    request: Request,
    response: Response,
    meeting_id: MeetingId,
    body: RehearsalIn,
    who: Registrar,
    cases: MeetingCases,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    shown = await cases.book_rehearsal(who, meeting_id, body, idempotency_key)
    if not shown.created:
        response.status_code = status.HTTP_200_OK
    return _rendered(request, who, shown)


@router.post(
    "/meetings/{meeting_id}/preempt",
    summary="Cho cuộc họp thay chỗ các cuộc họp ưu tiên thấp hơn / pre-empt lower-priority "
    "meetings (operator)",
    **shaped(MeetingOut, 400, 401, 403, 404, 409),
)
async def preempt(
    request: Request, meeting_id: MeetingId, body: PreemptIn, who: Operator, cases: MeetingCases
) -> dict[str, Any]:
    return _rendered(request, who, await cases.preempt(who, meeting_id, body))


@router.post(
    "/meetings/{meeting_id}/switch-backup",
    summary="Chuyển sang điểm cầu dự phòng / switch an endpoint to its backup (operator)",
    **shaped(MeetingOut, 400, 401, 403, 404, 409, 413),
)
async def switch_backup(
    request: Request,
    meeting_id: MeetingId,
    body: SwitchBackupIn,
    who: Operator,
    cases: MeetingCases,
) -> dict[str, Any]:
    return _rendered(request, who, await cases.switch_backup(who, meeting_id, body))
