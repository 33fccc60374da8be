"""The provincial report as files for the People's Committee: XLSX (openpyxl) and DOCX
(python-docx), with Vietnamese headings. Rendering only: the figures come from
`report.compile_report`."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from docx import Document as WordDocument
from openpyxl import Workbook
from openpyxl.styles import Font

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

PROVINCE_LINES: tuple[tuple[str, str], ...] = (
    ("meetings_held", "Số cuộc họp đã tổ chức"),
    ("checks", "Số lượt kiểm tra điểm cầu"),
    ("checks_on_time", "Kiểm tra đạt, đúng hạn (T-1h)"),
    ("checks_failed", "Kiểm tra đúng hạn nhưng có lỗi"),
    ("checks_late", "Kiểm tra trễ hạn"),
    ("checks_missed", "Không kiểm tra"),
    ("meetings_checked_on_time", "Số cuộc họp mọi điểm cầu kiểm tra xong trước 1 giờ"),
    ("checks_compliance", "Tỷ lệ cuộc họp kiểm tra xong trước 1 giờ"),
    ("incidents", "Số sự cố"),
    ("incidents_resolved", "Sự cố đã khắc phục"),
    ("incidents_open", "Sự cố chưa khắc phục"),
    ("hours_to_resolve", "Thời gian khắc phục trung bình (giờ)"),
    ("inspections_due", "Số lượt kiểm tra định kỳ theo kế hoạch"),
    ("inspections_done", "Số lượt kiểm tra định kỳ đã thực hiện"),
    ("inspections_on_schedule", "Kiểm tra định kỳ đúng hạn"),
    ("endpoints_inspected_on_schedule", "Số điểm cầu được kiểm tra định kỳ đúng hạn"),
    ("inspections_compliance", "Tỷ lệ điểm cầu được kiểm tra định kỳ đúng hạn"),
    ("endpoints", "Số điểm cầu"),
    ("endpoints_reported", "Số điểm cầu đã gửi báo cáo năm"),
    ("feedback", "Số lượt đánh giá chất lượng sau họp"),
    ("quality_average", "Chất lượng trung bình: đường truyền, âm thanh, hình ảnh (1-5)"),
    ("host_overall_average", "Đánh giá chung của đơn vị chủ trì (1-5)"),
)
ENDPOINT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("endpoint", "Mã điểm cầu"),
    ("name", "Tên điểm cầu"),
    ("unit_name", "Đơn vị"),
    ("meetings", "Số cuộc họp"),
    ("checks_on_time", "Kiểm tra đúng hạn"),
    ("checks_late", "Trễ hạn"),
    ("checks_missed", "Không kiểm tra"),
    ("checks_failed", "Có lỗi"),
    ("incidents", "Sự cố"),
    ("hours_to_resolve", "Giờ khắc phục TB"),
    ("inspections_due", "Kiểm tra định kỳ (kế hoạch)"),
    ("inspections_on_schedule", "Kiểm tra định kỳ đúng hạn"),
    ("reported", "Đã báo cáo năm"),
    ("effectiveness", "Đánh giá hiệu quả"),
    ("feedback", "Lượt đánh giá chất lượng"),
    ("quality_average", "Chất lượng TB (1-5)"),
)
EFFECTIVENESS = {
    "very_effective": "Rất hiệu quả",
    "effective": "Hiệu quả",
    "partly_effective": "Hiệu quả một phần",
    "ineffective": "Chưa hiệu quả",
}
PROPOSAL_COLUMNS = (
    ("endpoint", "Điểm cầu"),
    ("effectiveness", "Đánh giá"),
    ("problems", "Tồn tại, hạn chế"),
    ("proposals", "Kiến nghị, đề xuất"),
    ("text", "Ý kiến khác"),
)


ASPECT_NAMES = {"line": "Đường truyền", "audio": "Âm thanh", "video": "Hình ảnh"}
COMPLAINT_COLUMNS = (
    ("endpoint", "Điểm cầu"),
    ("aspect", "Nội dung phản ánh"),
    ("count", "Số cuộc họp bị đánh giá 1-2"),
    ("comments", "Nhận xét"),
)


def _complaints(report: dict[str, Any]) -> list[list[Any]]:
    """Recurring complaints (rule 9) as rows: endpoint, aspect, count, comments."""
    return [
        [
            c["endpoint"],
            ASPECT_NAMES.get(c["aspect"], c["aspect"]),
            c["count"],
            "; ".join(c["comments"]),
        ]
        for c in report.get("quality", {}).get("recurring_complaints", [])
    ]


def headings() -> dict[str, dict[str, str]]:
    """The Vietnamese headings of the JSON export's figures (the same as the files')."""
    return {
        "province": dict(PROVINCE_LINES),
        "endpoints": dict(ENDPOINT_COLUMNS),
        "proposals": dict(PROPOSAL_COLUMNS),
        "not_reported": {"not_reported": "Điểm cầu chưa gửi báo cáo"},
        "recurring_complaints": dict(COMPLAINT_COLUMNS),
    }


def title(report: dict[str, Any]) -> str:
    return (
        "BÁO CÁO ĐÁNH GIÁ HIỆU QUẢ HOẠT ĐỘNG HỆ THỐNG HỘI NGHỊ TRUYỀN HÌNH TRỰC TUYẾN "
        f"NĂM {report['year']}"
    )


def cell(key: str, value: Any) -> Any:
    """A figure as written in the files: shares as percentages, flags as Có/Không."""
    if value is None:
        return ""
    if key.endswith("_compliance"):
        return f"{value * 100:.1f}%"
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if key == "effectiveness":
        return EFFECTIVENESS.get(value, value)
    return value


def _compiled(report: dict[str, Any]) -> str:
    local = report["compiled_at"].astimezone(ZoneInfo(report["timezone"]))
    return f"Tổng hợp lúc {local:%H:%M ngày %d/%m/%Y} (giờ Việt Nam)"


def _sheet(workbook: Workbook, name: str, header: Sequence[str], rows: list[list[Any]]) -> None:
    sheet = workbook.create_sheet(name)
    sheet.append(list(header))
    for c in sheet[1]:
        c.font = Font(bold=True)
    for row in rows:
        sheet.append(row)


def to_xlsx(report: dict[str, Any]) -> bytes:
    workbook = Workbook()
    summary = workbook.active
    assert summary is not None
    summary.title = "Tổng hợp"
    summary.append([title(report)])
    summary["A1"].font = Font(bold=True)
    summary.append([_compiled(report)])
    summary.append(["Chỉ tiêu", "Giá trị"])
    for key, label in PROVINCE_LINES:
        summary.append([label, cell(key, report["province"][key])])
    _sheet(
        workbook,
        "Điểm cầu",
        [label for _, label in ENDPOINT_COLUMNS],
        [[cell(k, row[k]) for k, _ in ENDPOINT_COLUMNS] for row in report["endpoints"]],
    )
    _sheet(
        workbook,
        "Kiến nghị",
        [label for _, label in PROPOSAL_COLUMNS],
        [[cell(k, p[k]) for k, _ in PROPOSAL_COLUMNS] for p in report["proposals"]],
    )
    _sheet(
        workbook,
        "Chưa báo cáo",
        ["Điểm cầu chưa gửi báo cáo"],
        [[e] for e in report["not_reported"]],
    )
    _sheet(
        workbook,
        "Phản ánh chất lượng",
        [label for _, label in COMPLAINT_COLUMNS],
        _complaints(report),
    )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _table(document: Any, header: Sequence[str], rows: list[list[Any]]) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for c, text in zip(table.rows[0].cells, header, strict=True):
        c.text = text
    for row in rows:
        for c, value in zip(table.add_row().cells, row, strict=True):
            c.text = str(value)


def to_docx(report: dict[str, Any]) -> bytes:
    document = WordDocument()
    document.add_heading(title(report), level=1)
    document.add_paragraph(_compiled(report))
    document.add_heading("I. Số liệu tổng hợp toàn tỉnh", level=2)
    _table(
        document,
        ["Chỉ tiêu", "Giá trị"],
        [[label, cell(key, report["province"][key])] for key, label in PROVINCE_LINES],
    )
    document.add_heading("II. Số liệu theo điểm cầu", level=2)
    _table(
        document,
        [label for _, label in ENDPOINT_COLUMNS],
        [[cell(k, row[k]) for k, _ in ENDPOINT_COLUMNS] for row in report["endpoints"]],
    )
    document.add_heading("III. Kiến nghị, đề xuất của các đơn vị", level=2)
    for p in report["proposals"]:
        document.add_paragraph(
            f"{p['endpoint']} ({cell('effectiveness', p['effectiveness'])}): {p['proposals']}",
            style="List Bullet",
        )
    document.add_heading("IV. Điểm cầu chưa gửi báo cáo năm", level=2)
    document.add_paragraph(", ".join(report["not_reported"]) or "Không có.")
    document.add_heading("V. Chất lượng theo đánh giá sau họp của các điểm cầu", level=2)
    worst = report.get("quality", {}).get("worst_endpoints", [])
    document.add_paragraph(
        "Điểm cầu có chất lượng trung bình thấp nhất: "
        + (", ".join(f"{w['endpoint']} ({w['quality_average']})" for w in worst) or "Không có.")
    )
    _table(document, [label for _, label in COMPLAINT_COLUMNS], _complaints(report))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
