"""The year-end: the endpoints' evaluations and the provincial report with its exports
(rule 7)."""

from __future__ import annotations

from datetime import MAXYEAR, MINYEAR
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from hnth_kit.auth import Operator, Principal
from hnth_kit.errors import wants_english
from inspection import exports
from inspection.http.deps import Acting, Anyone, Reader, UseCases, shown
from inspection.usecases import Inspection

router = APIRouter(tags=["reports"])

Year = Annotated[
    int,
    Path(ge=MINYEAR + 1, le=MAXYEAR - 1, description="Năm báo cáo / the report's year"),
]
"""A report's year: its first and last instants, in the province's zone and in UTC, must
be dates Python can hold (year 1 starts in year 0 UTC east of Greenwich)."""


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


Language = Annotated[exports.Lang, Depends(report_language)]
Fresh = Annotated[
    bool,
    Query(
        description="Tổng hợp lại ngay (false: bản đã chốt) / compiled now (false: the kept one)"
    ),
]


@router.get("/annual-reports", summary="Báo cáo năm của các điểm cầu")
async def annual(who: Anyone, cases: UseCases, year: int | None = None) -> list[dict[str, Any]]:
    return shown(cases, who, await cases.annual_reports(who, year))  # type: ignore[no-any-return]


@router.post("/annual-reports/{task_id}", summary="Nộp báo cáo năm")
async def evaluate(
    task_id: str, form: EvaluationForm, who: Acting, cases: UseCases
) -> dict[str, Any]:
    done = await cases.hand_in_evaluation(who, task_id, form.model_dump(mode="json"))
    return shown(cases, who, done)  # type: ignore[no-any-return]


@router.post("/reports/{year}/compile", summary="Tổng hợp báo cáo tỉnh")
async def compile_report(year: Year, who: Operator, cases: UseCases) -> dict[str, Any]:
    return shown(cases, who, await cases.compile_and_keep(who, year))  # type: ignore[no-any-return]


@router.get("/reports/{year:int}.json", summary="Báo cáo tỉnh (JSON)")
async def report_json(
    year: Year, who: Reader, language: Language, cases: UseCases, fresh: Fresh = True
) -> dict[str, Any]:
    report = await _report(cases, who, year, fresh)
    report["language"] = language
    report["title"] = exports.title(report, language)
    report["headings"] = exports.headings(language)
    return shown(cases, who, report)  # type: ignore[no-any-return]


@router.get("/reports/{year:int}.xlsx", summary="Báo cáo tỉnh (Excel)")
async def report_xlsx(
    year: Year, who: Reader, language: Language, cases: UseCases, fresh: Fresh = True
) -> Response:
    content = exports.to_xlsx(await _report(cases, who, year, fresh), language)
    return _file(content, _file_name(year, language, "xlsx"), exports.XLSX)


@router.get("/reports/{year:int}.docx", summary="Báo cáo tỉnh (Word)")
async def report_docx(
    year: Year, who: Reader, language: Language, cases: UseCases, fresh: Fresh = True
) -> Response:
    content = exports.to_docx(await _report(cases, who, year, fresh), language)
    return _file(content, _file_name(year, language, "docx"), exports.DOCX)


@router.get("/reports/{year:int}", summary="Báo cáo tỉnh")
async def report(year: Year, who: Reader, cases: UseCases, fresh: Fresh = True) -> Any:
    return shown(cases, who, await _report(cases, who, year, fresh))


async def _report(cases: Inspection, who: Principal, year: int, fresh: bool) -> dict[str, Any]:
    """The year's report compiled now, or (`fresh` false) the one kept as the record."""
    if not fresh:
        return dict(await cases.kept_report(who.tenant, year))
    return dict(await cases.compile(who.tenant, year))


def _file_name(year: int, language: exports.Lang, extension: str) -> str:
    return f"{'hnth-report' if language == 'en' else 'bao-cao-hnth'}-{year}.{extension}"


def _file(content: bytes, name: str, media_type: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
