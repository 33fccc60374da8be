"""The IT department's technical contact list ("Danh bạ kỹ thuật", rule 5: every endpoint
names one technician, known to all): every endpoint with its unit and technician, then the
province's standing contacts, as an XLSX workbook. Pure: documents in, bytes out."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

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
    ("it_department", "Sở TT&TT", "IT department"),
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
