"""The year's compliance report and its downloads."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from hnth_console import views
from hnth_console.backends import BackendError
from hnth_console.deps import Services, Session, page
from hnth_console.reads import directory, optional
from hnth_console.render import error, render, see_other

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
    report, annual, kept, endpoints, units, accounts = await asyncio.gather(
        backends.get("inspection", f"/reports/{year}", s.token, s.lang),
        backends.get("inspection", "/annual-reports", s.token, s.lang, year=year),
        optional(backends.get("inspection", f"/reports/{year}", s.token, s.lang, fresh="false")),
        directory(backends, s),
        directory(backends, s, "units"),
        optional(backends.get("registration", "/accounts", s.token, s.lang)),
    )
    province = report.get("province") or {}
    bars = views.compliance_bars(province)
    missing = not_handed_in(annual)
    return render(
        request,
        s,
        "reports.html",
        year=year,
        province=province,
        bars=bars,
        annual=annual,
        kept=kept,
        names={str(e["code"]): str(e.get("name") or "") for e in endpoints},
        unit_names={str(u["code"]): str(u.get("name") or "") for u in units},
        # who handed each in, by name (the accounts: the IT department may list them)
        people={
            str(a["username"]): str(a.get("display_name") or a["username"]) for a in accounts or []
        },
        missing=missing,
        due=min((str(a["due_at"]) for a in missing if a.get("due_at")), default=None),
        done=done if done == "kept" else None,
    )


def not_handed_in(annual: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The year's endpoint reports still not handed in."""
    return [a for a in annual if a.get("state") != "submitted"]


@router.post("/reports/{year}/keep", include_in_schema=False)
async def keep(
    request: Request,
    year: int,
    s: Keeper,
    backends: Services,
    despite_missing: Annotated[str, Form()] = "",
) -> Response:
    """Compile the year's report and keep it as the province's record of the year (the
    downloads stay live: they compile afresh each time). While endpoints have not handed
    in their reports, only when the officer says so: a kept report is the year's record."""
    annual = await backends.get("inspection", "/annual-reports", s.token, s.lang, year=year)
    missing = not_handed_in(annual)
    if missing and despite_missing != "yes":
        return error(request, s, 422, s.t("keep_missing").format(count=len(missing)))
    await backends.request("POST", "inspection", f"/reports/{year}/compile", s.token, s.lang)
    return see_other(f"/reports?year={year}", done="kept")


@router.get("/reports/{year}.{kind}", summary="Tải báo cáo / download the report")
async def download(
    year: int, kind: str, s: Allowed, backends: Services, kept: bool = False
) -> Response:
    """The year's report as a file: compiled now, or (`kept`) the one kept as the record
    (what goes to the People's Committee is what was kept)."""
    if kind not in ("xlsx", "docx"):
        raise BackendError("console", 404, kind)
    path = f"/reports/{year}.{kind}"
    params = {"fresh": "false"} if kept else {}
    found = await backends.request("GET", "inspection", path, s.token, s.lang, params=params)
    return Response(
        found.content,
        media_type=found.headers.get("content-type"),
        headers={"Content-Disposition": found.headers.get("content-disposition", "")},
    )
