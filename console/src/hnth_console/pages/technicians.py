"""The technical contact list ("Danh bạ kỹ thuật", rule 5: every endpoint's technician,
known to all): every role reads it, in a table and as registration's XLSX or PDF."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from hnth_console.deps import Services, Session, page
from hnth_console.reads import optional
from hnth_console.render import render

router = APIRouter()
Allowed = Annotated[Session, Depends(page("technicians"))]
STANDING = ("it_department", "line_provider", "power_company", "duty")


@router.get("/technicians", response_class=HTMLResponse, summary="Danh bạ kỹ thuật")
async def technicians(request: Request, s: Allowed, backends: Services) -> HTMLResponse:
    endpoints, units, contacts = await asyncio.gather(
        backends.get("registration", "/endpoints", s.token, s.lang, active=True),
        backends.get("registration", "/units", s.token, s.lang),
        optional(backends.get("registration", "/contacts", s.token, s.lang)),
    )
    names = {u["code"]: u.get("name", "") for u in units}
    rows: list[dict[str, Any]] = [
        {**e, "unit_name": names.get(e.get("unit"), ""), "tech": e.get("technician") or {}}
        for e in sorted(endpoints, key=lambda e: str(e.get("code")))
    ]
    standing = [(r, (contacts or {}).get(r)) for r in STANDING if (contacts or {}).get(r)]
    return render(request, s, "technicians.html", rows=rows, standing=standing)


@router.get("/endpoints/{code}/room-rules", summary="Nội quy phòng họp / room rules")
async def room_rules(code: str, s: Allowed, backends: Services) -> Response:
    """An endpoint's room rules as last attached (rule 6), for everyone."""
    path = f"/endpoints/{quote(code)}/room-rules/file"
    return passed_on(await backends.request("GET", "registration", path, s.token, s.lang))


@router.get("/technicians.{ext}", summary="Tải danh bạ kỹ thuật / download the list")
async def download(ext: Literal["xlsx", "pdf"], s: Allowed, backends: Services) -> Response:
    """Registration's XLSX or PDF of the list, in the reader's language."""
    path = f"/directory/technicians.{ext}"
    return passed_on(await backends.request("GET", "registration", path, s.token, s.lang))


def passed_on(found: httpx.Response) -> Response:
    """A file from registration, as the reader's download (its type and name kept)."""
    return Response(
        found.content,
        media_type=found.headers.get("content-type"),
        headers={"Content-Disposition": found.headers.get("content-disposition", "")},
    )
