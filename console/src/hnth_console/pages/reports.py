"""The year's compliance report and its downloads."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from hnth_console import views
from hnth_console.backends import BackendError
from hnth_console.deps import Services, Session, page
from hnth_console.reads import optional
from hnth_console.render import render, see_other

router = APIRouter()
Allowed = Annotated[Session, Depends(page("reports"))]
Keeper = Annotated[Session, Depends(page("keep_report"))]


@router.get("/reports", response_class=HTMLResponse, summary="Báo cáo / reports")
async def reports(
    request: Request,
    s: Allowed,
    backends: Services,
    year: int | None = None,
    done: str | None = None,
) -> HTMLResponse:
    year = year or datetime.now(UTC).astimezone(s.zone).year
    report, annual, kept = await asyncio.gather(
        backends.get("inspection", f"/reports/{year}", s.token, s.lang),
        backends.get("inspection", "/annual-reports", s.token, s.lang, year=year),
        optional(backends.get("inspection", f"/reports/{year}", s.token, s.lang, fresh="false")),
    )
    province = report.get("province") or {}
    bars = views.compliance_bars(province)
    return render(
        request,
        s,
        "reports.html",
        year=year,
        province=province,
        bars=bars,
        annual=annual,
        kept=kept,
        done=done if done == "kept" else None,
    )


@router.post("/reports/{year}/keep", include_in_schema=False)
async def keep(year: int, s: Keeper, backends: Services) -> Response:
    """Compile the year's report and keep it as the province's record of the year (the
    downloads stay live: they compile afresh each time)."""
    await backends.request("POST", "inspection", f"/reports/{year}/compile", s.token, s.lang)
    return see_other(f"/reports?year={year}", done="kept")


@router.get("/reports/{year}.{kind}", summary="Tải báo cáo / download the report")
async def download(year: int, kind: str, s: Allowed, backends: Services) -> Response:
    if kind not in ("xlsx", "docx"):
        raise BackendError("console", 404, kind)
    found = await backends.request("GET", "inspection", f"/reports/{year}.{kind}", s.token, s.lang)
    return Response(
        found.content,
        media_type=found.headers.get("content-type"),
        headers={"Content-Disposition": found.headers.get("content-disposition", "")},
    )
