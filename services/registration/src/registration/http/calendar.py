"""Subscribable iCalendar feeds of a unit's or an endpoint's meetings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from hnth_kit.auth import caller
from hnth_kit.refusal import Refusal
from registration import ical
from registration.http.deps import MeetingCases, policy
from registration.views import answers

router = APIRouter(tags=["meetings"])
ICALENDAR: dict[int | str, dict[str, Any]] = {200: {"content": {"text/calendar": {}}}}


def _feed_kind(
    kind: Annotated[
        str, Path(description="Loại lịch: units hoặc endpoints / feed kind: units or endpoints")
    ],
) -> str:
    if kind not in ("units", "endpoints"):
        raise Refusal(404, "not_found", "Không có lịch này.", "No such feed.")
    return kind


@router.get(
    "/calendar/{kind}/{code}.ics",
    summary="Lịch iCalendar để đăng ký theo dõi / subscribable iCalendar feed",
    response_class=Response,
    responses=ICALENDAR | answers(401, 403, 404),
)
async def calendar_feed(
    request: Request,
    kind: Annotated[str, Depends(_feed_kind)],
    code: Annotated[
        str, Path(max_length=64, description="Mã đơn vị hoặc điểm cầu / unit or endpoint code")
    ],
    cases: MeetingCases,
    token: Annotated[
        str | None,
        Query(description="Mã xác thực cho ứng dụng lịch / token for calendar apps"),
    ] = None,
) -> Response:
    # Calendar apps cannot send headers: the token may come in the URL instead.
    credentials = None
    if token:
        credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
    elif auth := request.headers.get("authorization", "").removeprefix("Bearer ").strip():
        credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=auth)
    who = await caller(request, credentials)
    feed = await cases.feed(who, kind, code)
    body = ical.feed(f"HNTH {code}", feed.meetings, feed.now, policy(request, who).timezone)
    return Response(body, media_type="text/calendar; charset=utf-8")
