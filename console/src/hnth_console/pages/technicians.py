"""The technical contact list ("Danh bạ kỹ thuật", rule 5: every endpoint's technician,
known to all): every role reads it, in a table and as registration's XLSX or PDF."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

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


@router.get("/technicians.{ext}", summary="Tải danh bạ kỹ thuật / download the list")
async def download(ext: Literal["xlsx", "pdf"], s: Allowed, backends: Services) -> Response:
    """Registration's XLSX or PDF of the list, in the reader's language."""
    found = await backends.request(
        "GET", "registration", f"/directory/technicians.{ext}", s.token, s.lang
    )
    return Response(
        found.content,
        media_type=found.headers.get("content-type"),
        headers={"Content-Disposition": found.headers.get("content-disposition", "")},
    )
