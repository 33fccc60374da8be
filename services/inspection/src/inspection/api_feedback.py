"""Inspection's HTTP routes for quality feedback after a meeting (rule 9; seeds/002 and
seeds/004: agencies keep channels for feedback and use it to improve): each participating
endpoint's technician rates line, audio and video, the host unit rates the meeting
overall. One per endpoint (and one from the host) per meeting; giving it again replaces
it. The year-end report (`/reports/{year}`) averages them."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, ConfigDict, Field

from hnth_kit.auth import Authenticator, Principal, Role, require
from inspection.api import may_act, shown, zone_of
from inspection.workflows import Inspection

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


def build_feedback_router(inspection: Inspection, authenticate: Authenticator) -> APIRouter:
    router = APIRouter(tags=["feedback"])
    zone = zone_of(inspection)
    acting = Annotated[
        Principal, Depends(require(authenticate, Role.OPERATOR, Role.TECHNICIAN, Role.REGISTRAR))
    ]
    anyone = Annotated[Principal, Depends(authenticate)]

    @router.put(
        "/meetings/{meeting_id}/feedback/endpoints/{endpoint}",
        summary="Đánh giá chất lượng điểm cầu sau họp / rate an endpoint's line, audio, video",
        responses={201: {"description": "Lần đầu / first rating"}},
    )
    async def rate_endpoint(
        meeting_id: str, endpoint: str, form: EndpointFeedback, who: acting, response: Response
    ) -> dict[str, Any]:
        may_act(who, endpoint)
        meeting = await inspection.held_meeting(who.tenant, meeting_id, endpoint)
        scores = form.model_dump(include={"line", "audio", "video"})
        entry, first = await inspection.give_feedback(
            meeting, endpoint, scores, form.comment, who.subject
        )
        response.status_code = status.HTTP_201_CREATED if first else status.HTTP_200_OK
        return shown(entry, zone(who))  # type: ignore[no-any-return]

    @router.put(
        "/meetings/{meeting_id}/feedback/host",
        summary="Đánh giá chung của đơn vị chủ trì / the host unit's overall rating",
        responses={201: {"description": "Lần đầu / first rating"}},
    )
    async def rate_meeting(
        meeting_id: str, form: HostFeedback, who: acting, response: Response
    ) -> dict[str, Any]:
        meeting = await inspection.held_meeting(who.tenant, meeting_id, None)
        may_act(who, None, meeting.get("host_unit"))
        entry, first = await inspection.give_feedback(
            meeting, None, {"overall": form.overall}, form.comment, who.subject
        )
        response.status_code = status.HTTP_201_CREATED if first else status.HTTP_200_OK
        return shown(entry, zone(who))  # type: ignore[no-any-return]

    @router.get("/meetings/{meeting_id}/feedback", summary="Các đánh giá / a meeting's ratings")
    async def feedback(meeting_id: str, who: anyone) -> list[dict[str, Any]]:
        return shown(await inspection.store.meeting_feedback(who.tenant, meeting_id), zone(who))  # type: ignore[no-any-return]

    return router
