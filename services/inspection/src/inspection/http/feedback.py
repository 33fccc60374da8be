"""Quality feedback after a meeting (rule 9; seeds/002 and seeds/004: agencies keep
channels for feedback and use it to improve): each participating endpoint's technician
rates line, audio and video, the host unit rates the meeting overall. One per endpoint
(and one from the host) per meeting; giving it again replaces it. The year-end report
(`/reports/{year}`) averages them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from inspection.http.deps import Acting, Anyone, UseCases, shown

router = APIRouter(tags=["feedback"])

Score = Annotated[int, Field(ge=1, le=5, description="1 (rất kém / very poor) - 5 (rất tốt)")]


class EndpointFeedback(BaseModel):
    """Đánh giá chất lượng của điểm cầu / an endpoint's quality rating."""

    model_config = ConfigDict(extra="forbid")

    line: Score
    audio: Score
    video: Score
    comment: str = Field("", max_length=2000, description="Nhận xét / comment")


class HostFeedback(BaseModel):
    """Đánh giá chung của đơn vị chủ trì / the host unit's overall rating."""

    model_config = ConfigDict(extra="forbid")

    overall: Score
    comment: str = Field("", max_length=2000, description="Nhận xét / comment")


@router.put(
    "/meetings/{meeting_id}/feedback/endpoints/{endpoint}",
    summary="Đánh giá chất lượng điểm cầu sau họp / rate an endpoint's line, audio, video",
    responses={201: {"description": "Lần đầu / first rating"}},
)
async def rate_endpoint(
    meeting_id: str,
    endpoint: str,
    form: EndpointFeedback,
    who: Acting,
    cases: UseCases,
    response: Response,
) -> dict[str, Any]:
    scores = form.model_dump(include={"line", "audio", "video"})
    entry, first = await cases.rate_endpoint(who, meeting_id, endpoint, scores, form.comment)
    response.status_code = status.HTTP_201_CREATED if first else status.HTTP_200_OK
    return shown(cases, who, entry)  # type: ignore[no-any-return]


@router.put(
    "/meetings/{meeting_id}/feedback/host",
    summary="Đánh giá chung của đơn vị chủ trì / the host unit's overall rating",
    responses={201: {"description": "Lần đầu / first rating"}},
)
async def rate_meeting(
    meeting_id: str, form: HostFeedback, who: Acting, cases: UseCases, response: Response
) -> dict[str, Any]:
    entry, first = await cases.rate_meeting(who, meeting_id, form.overall, form.comment)
    response.status_code = status.HTTP_201_CREATED if first else status.HTTP_200_OK
    return shown(cases, who, entry)  # type: ignore[no-any-return]


@router.get("/meetings/{meeting_id}/feedback", summary="Các đánh giá / a meeting's ratings")
async def feedback(meeting_id: str, who: Anyone, cases: UseCases) -> list[dict[str, Any]]:
    return shown(cases, who, await cases.feedback(who, meeting_id))  # type: ignore[no-any-return]
