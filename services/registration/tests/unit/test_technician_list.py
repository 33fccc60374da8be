"""The technical contact list as files (rule 5): the PDF, made from documents alone."""

from __future__ import annotations

import io

from pypdf import PdfReader

from registration import technician_list

ENDPOINTS = [
    {
        "code": f"TQ-X-{n:03}",
        "name": f"Điểm cầu xã Thượng Lâm {n}",
        "unit": "XA",
        "technician": {"name": "Nguyễn Thị Hường", "phone": "0912000111", "email": "h@tq.vn"},
    }
    for n in range(80)
] + [{"code": "TQ-A", "name": "Phòng họp A", "unit": "GONE", "active": False}]
CONTACTS = {"line_provider": {"name": "Viễn thông Tuyên Quang", "phone": "0207 3822 000"}}


def text_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_the_pdf_lists_every_endpoint_over_pages_each_with_its_heading() -> None:
    made = technician_list.pdf(
        ENDPOINTS, {"XA": "UBND xã"}, CONTACTS, province="Tỉnh Tuyên Quang", updated="now"
    )
    pages = text_of(made)
    assert len(pages) > 1
    assert pages[0].startswith("Danh bạ kỹ thuật · Tỉnh Tuyên Quang\nCập nhật: now")
    assert all("Cán bộ kỹ thuật" in page for page in pages)  # the heading on every page
    every = "\n".join(pages)
    assert all(e["code"] in every for e in ENDPOINTS)
    assert "TQ-A Phòng họp A GONE" in every  # an unknown unit: its code; no technician
    assert "Đơn vị cung cấp đường truyền Viễn thông Tuyên Quang" in every
    assert "Sở KH&CN" not in every  # a contact not recorded is left out


def test_the_pdf_reads_in_english_and_without_standing_contacts() -> None:
    made = technician_list.pdf(ENDPOINTS[:1], {}, None, province="P", updated="u", lang="en")
    [page] = text_of(made)
    assert page.startswith("Technical contacts · P\nUpdated: u")
    assert "E-mail" in page
    assert "Person" not in page  # no standing contacts, no table for them
