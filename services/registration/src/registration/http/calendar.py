"""Subscribable iCalendar feeds of a unit's or an endpoint's meetings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field

from hnth_kit.auth import Caller, caller
from hnth_kit.refusal import Refusal
from registration import ical
from registration.http.deps import FeedCases, MeetingCases, policy, state
from registration.usecases.feeds import FeedKind
from registration.views import answers

router = APIRouter(tags=["meetings"])
ICALENDAR: dict[int | str, dict[str, Any]] = {200: {"content": {"text/calendar": {}}}}


class FeedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: FeedKind = Field(
        description="Lịch của unit (đơn vị) hay endpoint (điểm cầu) / a unit or an endpoint"
    )
    code: str = Field(
        min_length=1, max_length=64, description="Mã đơn vị hoặc điểm cầu / unit or endpoint code"
    )


class FeedOut(BaseModel):
    id: str = Field(description="Mã liên kết / the link's id")
    kind: FeedKind = Field(description="Lịch của đơn vị hay điểm cầu / a unit's or an endpoint's")
    code: str = Field(description="Mã đơn vị hoặc điểm cầu / unit or endpoint code")
    subject: str = Field(description="Người tạo liên kết / who made the link")
    created_at: datetime = Field(description="Thời điểm tạo (UTC) / when it was made (UTC)")
    url: str | None = Field(
        None,
        description=(
            "Địa chỉ bí mật cho ứng dụng lịch, chỉ hiện một lần / the secret URL for calendar "
            "apps, shown once"
        ),
    )


FeedId = Annotated[str, Path(max_length=32, description="Mã liên kết / the link's id")]


@router.post(
    "/calendar/feeds",
    status_code=201,
    summary="Tạo liên kết lịch lâu dài, chỉ đọc / make a long-lived read-only calendar link",
    responses=answers(401, 403, 404),
)
async def create_feed(request: Request, body: FeedIn, who: Caller, cases: FeedCases) -> FeedOut:
    """A secret URL a calendar app can subscribe to without signing in: it reads the
    calendar with your rights of today until it is deleted, or your sign-ins are revoked."""
    row, secret = await cases.create(who, body.kind, body.code)
    url = f"{str(request.base_url).rstrip('/')}/calendar/feeds/{row['id']}.ics?key={secret}"
    return FeedOut(**row, url=url)


@router.get(
    "/calendar/feeds",
    summary="Các liên kết lịch của tôi / my calendar links (an operator: the province's)",
    responses=answers(401),
)
async def list_feeds(who: Caller, cases: FeedCases) -> list[FeedOut]:
    return [FeedOut(**row) for row in await cases.listed(who)]


@router.delete(
    "/calendar/feeds/{feed_id}",
    status_code=204,
    summary="Thu hồi liên kết lịch (có hiệu lực ngay) / revoke a calendar link (at once)",
    responses=answers(401, 404),
)
async def delete_feed(feed_id: FeedId, who: Caller, cases: FeedCases) -> Response:
    await cases.delete(who, feed_id)
    return Response(status_code=204)


@router.get(
    "/calendar/feeds/{feed_id}.ics",
    summary="Lịch qua liên kết bí mật / the calendar behind a secret link",
    response_class=Response,
    responses=ICALENDAR | answers(404),
)
async def read_feed(
    request: Request,
    feed_id: FeedId,
    cases: FeedCases,
    key: Annotated[
        str, Query(max_length=128, description="Khóa bí mật của liên kết / the link's secret")
    ],
) -> Response:
    """No token: the secret in the link is the proof (calendar apps cannot sign in)."""
    feed, tenant, code = await cases.read(feed_id, key)
    zone = state(request).meetings.policy_for(tenant).timezone
    body = ical.feed(f"HNTH {code}", feed.meetings, feed.now, zone, feed.at)  # as direct
    return Response(body, media_type="text/calendar; charset=utf-8")


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
    zone = policy(request, who).timezone
    body = ical.feed(f"HNTH {code}", feed.meetings, feed.now, zone, feed.at)
    return Response(body, media_type="text/calendar; charset=utf-8")
