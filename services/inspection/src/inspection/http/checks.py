"""Readiness boards and check submissions (rule 3)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Response, status
from pydantic import BaseModel, Field

from hnth_contracts import CheckItem, ItemResult
from inspection.http.deps import Acting, Anyone, UseCases, shown

router = APIRouter(tags=["readiness"])


class ItemForm(BaseModel):
    ok: bool
    note: str | None = Field(default=None, max_length=2000)
    """What the problem is: required when `ok` is false (policy `check.problem_note`)."""


class LineForm(ItemForm):
    """The line to the bridge, with what was measured when known."""

    latency_ms: float | None = Field(default=None, ge=0, description="Độ trễ / latency (ms)")
    loss_pct: float | None = Field(default=None, ge=0, le=100, description="Mất gói / loss (%)")


class ChecklistForm(BaseModel):
    """The five readiness items (rule 3): all of them, each ok or a problem with a note."""

    line: LineForm
    audio: ItemForm
    video: ItemForm
    content: ItemForm
    power: ItemForm

    def results(self) -> dict[CheckItem, ItemResult]:
        return {
            item: ItemResult.model_validate(getattr(self, item.value).model_dump())
            for item in CheckItem
        }


class CheckForm(BaseModel):
    items: ChecklistForm


@router.get("/meetings/{meeting_id}/readiness", summary="Bảng sẵn sàng")
async def readiness(meeting_id: str, who: Anyone, cases: UseCases) -> list[dict[str, Any]]:
    board = await cases.readiness(who, meeting_id)
    return shown(cases, who, board)  # type: ignore[no-any-return]


@router.post(
    "/meetings/{meeting_id}/checks/{endpoint}",
    summary="Nộp kết quả kiểm tra điểm cầu",
    status_code=status.HTTP_201_CREATED,
)
async def submit_check(
    meeting_id: str,
    endpoint: str,
    form: CheckForm,
    who: Acting,
    cases: UseCases,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=200, description="Gửi lại an toàn / safe retries"),
    ] = None,
) -> dict[str, Any]:
    items = form.items.results()
    entry, added = await cases.submit_check(who, meeting_id, endpoint, items, idempotency_key)
    if not added:
        response.status_code = status.HTTP_200_OK
    return shown(cases, who, entry)  # type: ignore[no-any-return]
