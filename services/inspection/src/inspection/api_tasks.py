"""Inspection's HTTP routes for the calendar's work: periodic inspections (rule 4), the
units' year-end evaluations and the provincial report with its exports (rule 7)."""

import uuid
from datetime import MAXYEAR, MINYEAR
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, Field

from hnth_contracts import CheckItem
from hnth_kit.auth import Authenticator, Principal, Role, require
from hnth_kit.errors import wants_english
from inspection import exports
from inspection.api import (
    ChecklistForm,
    in_tenant,
    may_act,
    not_after_now,
    not_found,
    shown,
    zone_of,
)
from inspection.store import ANNUAL, INSPECTIONS
from inspection.workflows import Inspection

Year = Annotated[
    int,
    Path(
        ge=MINYEAR + 1,
        le=MAXYEAR - 1,
        description="Năm báo cáo / the report's year",
    ),
]
"""A report's year: its first and last instants, in the province's zone and in UTC, must
be dates Python can hold (year 1 starts in year 0 UTC east of Greenwich)."""


class Fault(BaseModel):
    item: CheckItem | None = None
    description: str = Field(min_length=1, max_length=2000)


class InspectionForm(BaseModel):
    items: ChecklistForm
    faults: list[Fault] = Field(default_factory=list, max_length=100)
    fixes: list[str] = Field(default_factory=list, max_length=100)
    line_provider_present: bool = False
    inspected_at: AwareDatetime | None = None


class Effectiveness(StrEnum):
    VERY_EFFECTIVE = "very_effective"
    EFFECTIVE = "effective"
    PARTLY_EFFECTIVE = "partly_effective"
    INEFFECTIVE = "ineffective"


class EvaluationForm(BaseModel):
    effectiveness: Effectiveness
    problems: str = Field(default="", max_length=10000)
    proposals: str = Field(default="", max_length=10000)
    text: str = Field(default="", max_length=20000)


def build_tasks_router(inspection: Inspection, authenticate: Authenticator) -> APIRouter:
    router = APIRouter()
    zone = zone_of(inspection)
    store = inspection.store
    anyone = Annotated[Principal, Depends(authenticate)]
    acting = Annotated[
        Principal, Depends(require(authenticate, Role.OPERATOR, Role.TECHNICIAN, Role.REGISTRAR))
    ]
    operator = Annotated[Principal, Depends(require(authenticate, Role.OPERATOR))]
    reader = Annotated[Principal, Depends(require(authenticate, Role.OPERATOR, Role.VIEWER))]
    lang = Annotated[exports.Lang, Depends(report_language)]

    # ------------------------------------------------------------ periodic inspections

    @router.get("/inspections", tags=["inspections"], summary="Kiểm tra định kỳ")
    async def inspections(
        who: anyone, endpoint: str | None = None, state: str | None = None
    ) -> list[dict[str, Any]]:
        query = in_tenant(who, endpoint=endpoint, state=state)
        return shown(await store.find(INSPECTIONS, query, sort="due_at"), zone(who))  # type: ignore[no-any-return]

    @router.post(
        "/inspections/{task_id}/result", tags=["inspections"], summary="Nộp kết quả kiểm tra"
    )
    async def inspected(task_id: str, form: InspectionForm, who: acting) -> dict[str, Any]:
        task = await store.get(INSPECTIONS, task_id, who.tenant)
        if task is None:
            raise not_found("nhiệm vụ kiểm tra", "inspection")
        may_act(who, task["endpoint"])
        policy = inspection.policy_for(who.tenant)
        results = form.items.checked(policy)
        result = {
            "passed": all(r.ok for r in results.values()),
            "items": {k.value: v.model_dump() for k, v in results.items()},
            "faults": [f.model_dump(mode="json") for f in form.faults],
            "fixes": form.fixes,
            "line_provider_present": form.line_provider_present,
            "inspected_at": not_after_now(
                policy, "inspected_at", form.inspected_at, inspection.clock.now()
            ),
            "inspected_by": who.subject,
        }
        marker = f"http:{uuid.uuid4()}"
        await inspection.complete_task(
            INSPECTIONS, task, who.subject, {"state": "done", "result": result}, marker
        )
        return shown({**task, "state": "done", "result": result}, zone(who))  # type: ignore[no-any-return]

    # ------------------------------------------------------------ year-end

    @router.get("/annual-reports", tags=["reports"], summary="Báo cáo năm của các điểm cầu")
    async def annual(who: anyone, year: int | None = None) -> list[dict[str, Any]]:
        query = in_tenant(who, year=str(year) if year else None)
        return shown(await store.find(ANNUAL, query, sort="endpoint"), zone(who))  # type: ignore[no-any-return]

    @router.post("/annual-reports/{task_id}", tags=["reports"], summary="Nộp báo cáo năm")
    async def evaluate(task_id: str, form: EvaluationForm, who: acting) -> dict[str, Any]:
        task = await store.get(ANNUAL, task_id, who.tenant)
        if task is None:
            raise not_found("yêu cầu báo cáo", "report request")
        may_act(who, task.get("endpoint"), task.get("unit"))
        now = inspection.clock.now()
        changes = {
            "state": "submitted",
            "evaluation": form.model_dump(mode="json"),
            "submitted_by": who.subject,
            "submitted_at": now,
            "on_time": now <= task["due_at"],
        }
        await inspection.complete_task(ANNUAL, task, who.subject, changes, f"http:{uuid.uuid4()}")
        return shown({**task, **changes}, zone(who))  # type: ignore[no-any-return]

    @router.post("/reports/{year}/compile", tags=["reports"], summary="Tổng hợp báo cáo tỉnh")
    async def compile_report(year: Year, who: operator) -> dict[str, Any]:
        report = await inspection.compile(who.tenant, year)
        report["compiled_by"] = who.subject
        await store.reports.replace_one(
            {"_id": f"{who.tenant}:{year}"}, {**report, "_id": f"{who.tenant}:{year}"}, upsert=True
        )
        return shown(report, zone(who))  # type: ignore[no-any-return]

    @router.get("/reports/{year:int}.json", tags=["reports"], summary="Báo cáo tỉnh (JSON)")
    async def report_json(year: Year, who: reader, language: lang) -> dict[str, Any]:
        report = await inspection.compile(who.tenant, year)
        report["language"] = language
        report["title"] = exports.title(report, language)
        report["headings"] = exports.headings(language)
        return shown(report, zone(who))  # type: ignore[no-any-return]

    @router.get("/reports/{year:int}.xlsx", tags=["reports"], summary="Báo cáo tỉnh (Excel)")
    async def report_xlsx(year: Year, who: reader, language: lang) -> Response:
        report = await inspection.compile(who.tenant, year)
        content = exports.to_xlsx(report, language)
        return _file(content, _file_name(year, language, "xlsx"), exports.XLSX)

    @router.get("/reports/{year:int}.docx", tags=["reports"], summary="Báo cáo tỉnh (Word)")
    async def report_docx(year: Year, who: reader, language: lang) -> Response:
        report = await inspection.compile(who.tenant, year)
        content = exports.to_docx(report, language)
        return _file(content, _file_name(year, language, "docx"), exports.DOCX)

    @router.get("/reports/{year:int}", tags=["reports"], summary="Báo cáo tỉnh")
    async def report(year: Year, who: reader, fresh: Annotated[bool, Query()] = True) -> Any:
        if not fresh:
            saved = await store.reports.find_one({"_id": f"{who.tenant}:{year}"})
            if saved is None:
                raise not_found(f"báo cáo năm {year}", f"report for {year}")
            return shown(saved, zone(who))
        return shown(await inspection.compile(who.tenant, year), zone(who))

    return router


def report_language(
    request: Request,
    lang: Annotated[
        exports.Lang | None, Query(description="vi (mặc định / default) hoặc / or en")
    ] = None,
) -> exports.Lang:
    """`?lang=` when given, else English on `Accept-Language: en`, else Vietnamese."""
    if lang is not None:
        return lang
    return "en" if wants_english(request) else "vi"


def _file_name(year: int, language: exports.Lang, extension: str) -> str:
    return f"{'hnth-report' if language == 'en' else 'bao-cao-hnth'}-{year}.{extension}"


def _file(content: bytes, name: str, media_type: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
