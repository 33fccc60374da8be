"""The IT department's technical contact list ("Danh bạ kỹ thuật", rule 5: every endpoint
names one technician, known to all): every endpoint with its unit and technician, then the
province's standing contacts, as an XLSX workbook or a PDF. Pure: documents in, bytes out."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fpdf import FPDF  # at start, not on use: the first PDF would pay seconds of import

ENDPOINT_COLUMNS = (
    ("code", "Mã điểm cầu", "Endpoint code"),
    ("name", "Điểm cầu", "Endpoint"),
    ("unit", "Đơn vị", "Unit"),
    ("technician", "Cán bộ kỹ thuật", "Technician"),
    ("phone", "Điện thoại", "Phone"),
    ("email", "Thư điện tử", "E-mail"),
    ("active", "Đang hoạt động", "Active"),
)
ROLES = (
    ("it_department", "Sở KH&CN", "IT department"),
    ("line_provider", "Đơn vị cung cấp đường truyền", "Line provider"),
    ("power_company", "Công ty Điện lực", "Power company"),
    ("duty", "Trực kỹ thuật", "Duty contact"),
)


def rows(
    endpoints: Sequence[Mapping[str, Any]], units: Mapping[str, str], lang: str = "vi"
) -> list[list[Any]]:
    """One row per endpoint, by code: its unit's name, its technician's name and ways."""
    yes, no = ("Có", "Không") if lang != "en" else ("Yes", "No")
    found = []
    for e in sorted(endpoints, key=lambda e: str(e.get("code"))):
        tech = e.get("technician") or {}
        unit = str(e.get("unit") or "")
        found.append(
            [
                e.get("code"),
                e.get("name"),
                f"{unit} · {units[unit]}" if unit in units else unit,
                tech.get("person") or tech.get("name") or "",
                tech.get("phone") or "",
                tech.get("email") or "",
                yes if e.get("active", True) else no,
            ]
        )
    return found


def workbook(
    endpoints: Sequence[Mapping[str, Any]],
    units: Mapping[str, str],
    contacts: Mapping[str, Any] | None,
    lang: str = "vi",
) -> bytes:
    """The contact list as XLSX: sheet 1 the endpoints' technicians, sheet 2 the standing
    contacts (IT department, line provider, power company, duty)."""
    from openpyxl import Workbook  # imported on use: seconds off every service start
    from openpyxl.styles import Font

    en = lang == "en"
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has its first sheet
    sheet.title = "Technicians" if en else "Cán bộ kỹ thuật"
    sheet.append([c[2] if en else c[1] for c in ENDPOINT_COLUMNS])
    for row in rows(endpoints, units, lang):
        sheet.append(row)
    standing = book.create_sheet("Standing contacts" if en else "Đầu mối")
    standing.append(["", "Name", "Person", "Phone", "E-mail"] if en else
                    ["", "Tên", "Người liên hệ", "Điện thoại", "Thư điện tử"])  # fmt: skip
    for role, vi, english in ROLES:
        contact = (contacts or {}).get(role) or {}
        if contact:
            standing.append(
                [
                    english if en else vi,
                    contact.get("name") or "",
                    contact.get("person") or "",
                    contact.get("phone") or "",
                    contact.get("email") or "",
                ]
            )
    for ws in (sheet, standing):
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for column in ws.columns:
            width = max(len(str(c.value or "")) for c in column)
            ws.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), 60)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
"""DejaVu Sans (Debian's fonts-dejavu-core; the image installs it): the PDF needs a font
with every Vietnamese letter, which PDF's built-in fonts lack."""
_WIDTHS = (25, 46, 52, 38, 24, 70, 22)
"""Millimetres per endpoint column on landscape A4 (277 mm inside the margins)."""


def pdf(
    endpoints: Sequence[Mapping[str, Any]],
    units: Mapping[str, str],
    contacts: Mapping[str, Any] | None,
    *,
    province: str,
    updated: str,
    lang: str = "vi",
    fonts: Path = FONT_DIR,
) -> bytes:
    """The same list as a PDF to print or attach (landscape A4): a title with the
    province and when it was made (`updated`, as the reader reads time), the standing
    contacts, then every endpoint's technician."""
    en = lang == "en"
    doc = FPDF(orientation="L", format="A4")
    doc.set_title("Technical contacts" if en else "Danh bạ kỹ thuật")
    doc.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    doc.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    doc.add_page()
    doc.set_font("DejaVu", "B", 14)
    title = "Technical contacts" if en else "Danh bạ kỹ thuật"
    doc.cell(text=f"{title} · {province}", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("DejaVu", "", 9)
    doc.cell(text=f"{'Updated' if en else 'Cập nhật'}: {updated}", new_x="LMARGIN", new_y="NEXT")
    doc.ln(3)
    standing = [
        [english if en else vi, c.get("name") or "", c.get("person") or "",
         c.get("phone") or "", c.get("email") or ""]
        for role, vi, english in ROLES
        if (c := (contacts or {}).get(role) or {})
    ]  # fmt: skip
    if standing:
        head = ["", "Name", "Person", "Phone", "E-mail"] if en else [
            "", "Tên", "Người liên hệ", "Điện thoại", "Thư điện tử"]  # fmt: skip
        _table(doc, [head, *standing], (62, 75, 45, 30, 65))
        doc.ln(4)
    head = [c[2] if en else c[1] for c in ENDPOINT_COLUMNS]
    _table(doc, [head, *rows(endpoints, units, lang)], _WIDTHS)
    return bytes(doc.output())


def _table(doc: FPDF, lines: Sequence[Sequence[Any]], widths: Sequence[int]) -> None:
    """A table whose first line is its heading (repeated on every page it spans)."""
    with doc.table(col_widths=tuple(widths), width=sum(widths), text_align="LEFT") as table:
        for line in lines:
            row = table.row()
            for value in line:
                row.cell(str(value if value is not None else ""))
