"""The technical contact list, over stand-ins for registration: every role reads it, with
each endpoint's technician (names beside codes) and the standing contacts, and downloads
registration's XLSX and PDF through the console."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from console_fakes import FakeRegistration, console_over, sign_in

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TECH = {"name": "Phạm Minh Thắng", "phone": "0912480301", "email": "kythuat.syt@tq.gov.vn"}


def services(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/endpoints":
        return httpx.Response(
            200, json=[{"code": "TQ-SYT", "name": "Sở Y tế", "unit": "SYT", "technician": TECH}]
        )
    if path == "/units":
        return httpx.Response(200, json=[{"code": "SYT", "name": "Sở Y tế Tuyên Quang"}])
    if path == "/contacts":
        return httpx.Response(200, json={"line_provider": {"name": "VNPT", "phone": "0207"}})
    if path == "/directory/technicians.pdf":
        disposition = 'attachment; filename="danh-ba-ky-thuat-tuyen-quang.pdf"'
        headers = {"content-type": "application/pdf", "content-disposition": disposition}
        return httpx.Response(200, content=b"%PDF-1.3", headers=headers)
    if path == "/directory/technicians.xlsx":
        disposition = 'attachment; filename="danh-ba-ky-thuat-tuyen-quang.xlsx"'
        return httpx.Response(
            200, content=b"PK..", headers={"content-type": XLSX, "content-disposition": disposition}
        )
    return httpx.Response(404, json={"detail": {"message": f"không có {path}"}})


@pytest.fixture
async def console() -> AsyncIterator[httpx.AsyncClient]:
    registration = FakeRegistration()
    registration.add("ky-thuat", "technician", endpoints=["TQ-SYT"])
    async with console_over(registration, services) as client:
        yield client


async def test_every_role_reads_the_technical_contacts_and_downloads_them(console) -> None:
    assert (await sign_in(console, "ky-thuat")).status_code == 303
    page = await console.get("/technicians")
    assert page.status_code == 200, page.text[:500]
    assert 'id="nav-technicians"' in page.text
    row = page.text.split('data-endpoint="TQ-SYT"')[1].split("</tr>")[0]
    assert "SYT · Sở Y tế Tuyên Quang" in row
    assert "Phạm Minh Thắng" in row
    assert 'href="tel:0912480301"' in row
    assert "VNPT" in page.text.split('id="standing-contacts"')[1]
    got = await console.get("/technicians.xlsx")
    assert got.status_code == 200
    assert got.headers["content-type"] == XLSX
    assert "danh-ba-ky-thuat" in got.headers["content-disposition"]
    assert 'href="/technicians.pdf"' in page.text
    printed = await console.get("/technicians.pdf")
    assert (printed.status_code, printed.content) == (200, b"%PDF-1.3")
    assert printed.headers["content-type"] == "application/pdf"
    assert "danh-ba-ky-thuat-tuyen-quang.pdf" in printed.headers["content-disposition"]
    assert (await console.get("/technicians.docx")).status_code == 422
