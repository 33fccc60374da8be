"""Periodic inspections of an endpoint (rule 4), opened by `ReportDue`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hnth_contracts import CheckItem
from hnth_contracts.envelope import UtcDatetime
from hnth_contracts.events import Code
from inspection.http.checks import ChecklistForm
from inspection.http.deps import Acting, Anyone, Operator, UseCases, shown

router = APIRouter(tags=["inspections"])


class Fault(BaseModel):
    item: CheckItem | None = None
    description: str = Field(min_length=1, max_length=2000)


class InspectionForm(BaseModel):
    items: ChecklistForm
    faults: list[Fault] = Field(default_factory=list, max_length=100)
    fixes: list[str] = Field(default_factory=list, max_length=100)
    line_provider_present: bool = False
    inspected_at: UtcDatetime | None = None


class PlanForm(BaseModel):
    """When and where a periodic inspection is done; the task's own endpoint is always in."""

    planned_at: UtcDatetime
    endpoints: list[Code] = Field(default_factory=list, max_length=50)
    with_line_provider: bool


class CancelForm(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


@router.get("/inspections", summary="Kiểm tra định kỳ")
async def inspections(
    who: Anyone, cases: UseCases, endpoint: str | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    return shown(cases, who, await cases.inspections(who, endpoint, state))  # type: ignore[no-any-return]


@router.get("/inspections/{task_id}", summary="Một nhiệm vụ kiểm tra định kỳ")
async def inspection(task_id: str, who: Anyone, cases: UseCases) -> dict[str, Any]:
    return shown(cases, who, await cases.inspection(who, task_id))  # type: ignore[no-any-return]


@router.post("/inspections/{task_id}/result", summary="Nộp kết quả kiểm tra")
async def inspected(
    task_id: str, form: InspectionForm, who: Acting, cases: UseCases
) -> dict[str, Any]:
    details = form.model_dump(mode="json", include={"faults", "fixes", "line_provider_present"})
    done = await cases.hand_in_inspection(
        who, task_id, form.items.results(), details, form.inspected_at
    )
    return shown(cases, who, done)  # type: ignore[no-any-return]


@router.put("/inspections/{task_id}/plan", summary="Lập, sửa kế hoạch kiểm tra")
async def plan(task_id: str, form: PlanForm, who: Operator, cases: UseCases) -> dict[str, Any]:
    planned = await cases.plan_inspection(
        who, task_id, form.planned_at, form.endpoints, form.with_line_provider
    )
    return shown(cases, who, planned)  # type: ignore[no-any-return]


@router.post("/inspections/{task_id}/cancel", summary="Hủy kiểm tra định kỳ")
async def cancel(task_id: str, form: CancelForm, who: Operator, cases: UseCases) -> dict[str, Any]:
    return shown(cases, who, await cases.cancel_inspection(who, task_id, form.reason))  # type: ignore[no-any-return]
