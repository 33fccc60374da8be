"""The provincial report as files for the People's Committee: XLSX (openpyxl) and DOCX
(python-docx), with Vietnamese headings (English ones on request). Rendering only: the
figures come from `report.compile_report`."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from openpyxl import Workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

Lang = Literal["vi", "en"]
"""The report's language: Vietnamese (the default, for the People's Committee) or English."""

PROVINCE_LINES: tuple[tuple[str, str, str], ...] = (
    ("meetings_held", "Số cuộc họp đã tổ chức", "Meetings held"),
    ("checks", "Số lượt kiểm tra điểm cầu", "Endpoint checks"),
    ("checks_on_time", "Kiểm tra đạt, đúng hạn (T-1h)", "Checks passed on time (T-1h)"),
    ("checks_failed", "Kiểm tra đúng hạn nhưng có lỗi", "Checks on time with a problem"),
    ("checks_late", "Kiểm tra trễ hạn", "Checks late"),
    ("checks_missed", "Không kiểm tra", "Checks missed"),
    (
        "meetings_checked_on_time",
        "Số cuộc họp mọi điểm cầu kiểm tra xong trước 1 giờ",
        "Meetings with every endpoint checked 1 hour before",
    ),
    (
        "checks_compliance",
        "Tỷ lệ cuộc họp kiểm tra xong trước 1 giờ",
        "Share of meetings checked 1 hour before",
    ),
    ("incidents", "Số sự cố", "Incidents"),
    ("incidents_resolved", "Sự cố đã khắc phục", "Incidents resolved"),
    ("incidents_open", "Sự cố chưa khắc phục", "Incidents still open"),
    ("hours_to_resolve", "Thời gian khắc phục trung bình (giờ)", "Mean time to resolve (hours)"),
    ("inspections_due", "Số lượt kiểm tra định kỳ theo kế hoạch", "Periodic inspections planned"),
    ("inspections_done", "Số lượt kiểm tra định kỳ đã thực hiện", "Periodic inspections done"),
    ("inspections_on_schedule", "Kiểm tra định kỳ đúng hạn", "Periodic inspections on schedule"),
    (
        "endpoints_inspected_on_schedule",
        "Số điểm cầu được kiểm tra định kỳ đúng hạn",
        "Endpoints inspected on schedule",
    ),
    (
        "inspections_compliance",
        "Tỷ lệ điểm cầu được kiểm tra định kỳ đúng hạn",
        "Share of endpoints inspected on schedule",
    ),
    (
        "notices_delivered",
        "Số thông báo bằng văn bản đã gửi tới các bên",
        "Written notices delivered to the parties",
    ),
    (
        "notices_on_time",
        "Thông báo gửi trước thời hạn quy định",
        "Notices delivered by the lead time",
    ),
    (
        "notices_lead_time_compliance",
        "Tỷ lệ thông báo gửi trước thời hạn quy định",
        "Share of notices delivered by the lead time",
    ),
    ("notices_acknowledged", "Thông báo đã được xác nhận", "Notices acknowledged"),
    (
        "notices_acknowledged_share",
        "Tỷ lệ thông báo được xác nhận",
        "Share of notices acknowledged",
    ),
    (
        "meetings_with_letter",
        "Số cuộc họp đăng ký kèm công văn (số, ngày)",
        "Meetings registered with an official letter (number, date)",
    ),
    (
        "letters_compliance",
        "Tỷ lệ cuộc họp có công văn (nơi quy chế bắt buộc)",
        "Share of meetings with an official letter (where the regulation requires one)",
    ),
    ("endpoints", "Số điểm cầu", "Endpoints"),
    ("endpoints_reported", "Số điểm cầu đã gửi báo cáo năm", "Endpoints that sent their report"),
    ("feedback", "Số lượt đánh giá chất lượng sau họp", "Quality ratings after meetings"),
    (
        "quality_average",
        "Chất lượng trung bình: đường truyền, âm thanh, hình ảnh (1-5)",
        "Mean quality: line, audio, video (1-5)",
    ),
    (
        "host_overall_average",
        "Đánh giá chung của đơn vị chủ trì (1-5)",
        "Host units' overall rating (1-5)",
    ),
)
ENDPOINT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("endpoint", "Mã điểm cầu", "Endpoint code"),
    ("name", "Tên điểm cầu", "Endpoint"),
    ("unit_name", "Đơn vị", "Unit"),
    ("meetings", "Số cuộc họp", "Meetings"),
    ("checks_on_time", "Kiểm tra đúng hạn", "Checks on time"),
    ("checks_late", "Trễ hạn", "Late"),
    ("checks_missed", "Không kiểm tra", "Missed"),
    ("checks_failed", "Có lỗi", "With a problem"),
    ("incidents", "Sự cố", "Incidents"),
    ("hours_to_resolve", "Giờ khắc phục TB", "Mean hours to resolve"),
    ("inspections_due", "Kiểm tra định kỳ (kế hoạch)", "Inspections planned"),
    ("inspections_done", "Kiểm tra định kỳ đã thực hiện", "Inspections done"),
    ("inspections_on_schedule", "Kiểm tra định kỳ đúng hạn", "Inspections on schedule"),
    ("reported", "Đã báo cáo năm", "Reported"),
    ("effectiveness", "Đánh giá hiệu quả", "Effectiveness"),
    ("feedback", "Lượt đánh giá chất lượng", "Quality ratings"),
    ("quality_average", "Chất lượng TB (1-5)", "Mean quality (1-5)"),
)
MEETING_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("start", "Thời gian", "Time"),
    ("title", "Cuộc họp", "Meeting"),
    ("host_unit", "Đơn vị chủ trì", "Host unit"),
    ("document_number", "Số công văn", "Official letter no."),
    ("document_date", "Ngày công văn", "Letter date"),
)
PROPOSAL_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("endpoint", "Điểm cầu", "Endpoint"),
    ("effectiveness", "Đánh giá", "Effectiveness"),
    ("problems", "Tồn tại, hạn chế", "Problems"),
    ("proposals", "Kiến nghị, đề xuất", "Proposals"),
    ("text", "Ý kiến khác", "Other comments"),
)
COMPLAINT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("endpoint", "Điểm cầu", "Endpoint"),
    ("aspect", "Nội dung phản ánh", "Aspect"),
    ("count", "Số cuộc họp bị đánh giá 1-2", "Meetings rated 1-2"),
    ("comments", "Nhận xét", "Comments"),
)
WORDS: dict[str, tuple[str, str]] = {
    "very_effective": ("Rất hiệu quả", "Very effective"),
    "effective": ("Hiệu quả", "Effective"),
    "partly_effective": ("Hiệu quả một phần", "Partly effective"),
    "ineffective": ("Chưa hiệu quả", "Ineffective"),
    "line": ("Đường truyền", "Line"),
    "audio": ("Âm thanh", "Audio"),
    "video": ("Hình ảnh", "Video"),
    "yes": ("Có", "Yes"),
    "no": ("Không", "No"),
    "none": ("Không có.", "None."),
    "figure": ("Chỉ tiêu", "Figure"),
    "value": ("Giá trị", "Value"),
    "summary": ("Tổng hợp", "Summary"),
    "endpoints": ("Điểm cầu", "Endpoints"),
    "proposals": ("Kiến nghị", "Proposals"),
    "not_reported_sheet": ("Chưa báo cáo", "Not reported"),
    "meetings": ("Cuộc họp", "Meetings"),
    "part_meetings": (
        "VI. Các cuộc họp đã tổ chức và công văn đăng ký",
        "VI. The meetings held and their official letters",
    ),
    "not_reported": ("Điểm cầu chưa gửi báo cáo", "Endpoints that did not report"),
    "complaints": ("Phản ánh chất lượng", "Quality complaints"),
    "part_province": ("I. Số liệu tổng hợp toàn tỉnh", "I. Province-wide figures"),
    "part_endpoints": ("II. Số liệu theo điểm cầu", "II. Figures per endpoint"),
    "part_proposals": (
        "III. Kiến nghị, đề xuất của các đơn vị",
        "III. The units' proposals",
    ),
    "part_not_reported": (
        "IV. Điểm cầu chưa gửi báo cáo năm",
        "IV. Endpoints that did not send their annual report",
    ),
    "part_quality": (
        "V. Chất lượng theo đánh giá sau họp của các điểm cầu",
        "V. Quality as rated by the endpoints after meetings",
    ),
    "worst": (
        "Điểm cầu có chất lượng trung bình thấp nhất: ",
        "Endpoints with the lowest mean quality: ",
    ),
}


def word(key: str, lang: Lang) -> str:
    """A fixed word of the files in `lang` (an unknown key is shown as it is)."""
    pair = WORDS.get(key)
    return key if pair is None else pair[lang == "en"]


def labels(columns: Sequence[tuple[str, str, str]], lang: Lang) -> list[tuple[str, str]]:
    """(key, heading) pairs in `lang`."""
    return [(key, en if lang == "en" else vi) for key, vi, en in columns]


def _complaints(report: dict[str, Any], lang: Lang) -> list[list[Any]]:
    """Recurring complaints (rule 9) as rows: endpoint, aspect, count, comments."""
    return [
        [c["endpoint"], word(c["aspect"], lang), c["count"], "; ".join(c["comments"])]
        for c in report.get("quality", {}).get("recurring_complaints", [])
    ]


def headings(lang: Lang = "vi") -> dict[str, dict[str, str]]:
    """The headings of the JSON export's figures in `lang` (the same as the files')."""
    return {
        "province": dict(labels(PROVINCE_LINES, lang)),
        "endpoints": dict(labels(ENDPOINT_COLUMNS, lang)),
        "proposals": dict(labels(PROPOSAL_COLUMNS, lang)),
        "not_reported": {"not_reported": word("not_reported", lang)},
        "recurring_complaints": dict(labels(COMPLAINT_COLUMNS, lang)),
    }


def title(report: dict[str, Any], lang: Lang = "vi") -> str:
    if lang == "en":
        return (
            "REPORT ON THE EFFECTIVENESS OF THE PROVINCE'S ONLINE VIDEO-CONFERENCE NETWORK "
            f"IN {report['year']}"
        )
    return (
        "BÁO CÁO ĐÁNH GIÁ HIỆU QUẢ HOẠT ĐỘNG HỆ THỐNG HỘI NGHỊ TRUYỀN HÌNH TRỰC TUYẾN "
        f"NĂM {report['year']}"
    )


def cell(key: str, value: Any, lang: Lang = "vi") -> Any:
    """A figure as written in the files: shares (`_compliance`, `_share`: fractions) as
    percentages, flags as Có/Không (Yes/No)."""
    if value is None:
        return ""
    if key.endswith(("_compliance", "_share")):
        return f"{value * 100:.1f}%"
    if isinstance(value, bool):
        return word("yes" if value else "no", lang)
    if key == "effectiveness":
        return word(value, lang)
    return value


def _compiled(report: dict[str, Any], lang: Lang) -> str:
    local = report["compiled_at"].astimezone(ZoneInfo(report["timezone"]))
    if lang == "en":
        return f"Compiled at {local:%H:%M on %d/%m/%Y} ({report['timezone']})"
    return f"Tổng hợp lúc {local:%H:%M ngày %d/%m/%Y} (giờ Việt Nam)"


def _rows(
    columns: Sequence[tuple[str, str]], records: Sequence[Any], lang: Lang
) -> list[list[Any]]:
    return [[cell(k, r[k], lang) for k, _ in columns] for r in records]


def _meetings(report: dict[str, Any], lang: Lang) -> list[list[Any]]:
    """Each meeting held with its official letter: the time local, the date as written in
    Vietnam (dd/mm/yyyy). A report kept before meetings were listed has none."""
    tz = ZoneInfo(report["timezone"])
    rows = []
    for m in report.get("meetings", []):
        letter_date = m.get("document_date")
        shown = {
            **m,
            "start": m["start"].astimezone(tz).strftime("%H:%M %d/%m/%Y"),
            "document_date": "/".join(reversed(letter_date.split("-"))) if letter_date else "",
            "document_number": m.get("document_number") or "",
        }
        rows.append([shown[k] or "" for k, _ in labels(MEETING_COLUMNS, lang)])
    return rows


def _sheet(workbook: Workbook, name: str, header: Sequence[str], rows: list[list[Any]]) -> None:
    from openpyxl.styles import Font

    sheet = workbook.create_sheet(name)
    sheet.append(list(header))
    for c in sheet[1]:
        c.font = Font(bold=True)
    for row in rows:
        sheet.append(row)


def to_xlsx(report: dict[str, Any], lang: Lang = "vi") -> bytes:
    from openpyxl import Workbook  # imported on use: a second off every service start
    from openpyxl.styles import Font

    workbook = Workbook()
    summary = workbook.active
    assert summary is not None
    summary.title = word("summary", lang)
    summary.append([title(report, lang)])
    summary["A1"].font = Font(bold=True)
    summary.append([_compiled(report, lang)])
    summary.append([word("figure", lang), word("value", lang)])
    for key, label in labels(PROVINCE_LINES, lang):
        summary.append([label, cell(key, report["province"].get(key), lang)])
    endpoints, proposals = labels(ENDPOINT_COLUMNS, lang), labels(PROPOSAL_COLUMNS, lang)
    _sheet(
        workbook,
        word("endpoints", lang),
        [label for _, label in endpoints],
        _rows(endpoints, report["endpoints"], lang),
    )
    _sheet(
        workbook,
        word("proposals", lang),
        [label for _, label in proposals],
        _rows(proposals, report["proposals"], lang),
    )
    _sheet(
        workbook,
        word("not_reported_sheet", lang),
        [word("not_reported", lang)],
        [[e] for e in report["not_reported"]],
    )
    _sheet(
        workbook,
        word("complaints", lang),
        [label for _, label in labels(COMPLAINT_COLUMNS, lang)],
        _complaints(report, lang),
    )
    _sheet(
        workbook,
        word("meetings", lang),
        [label for _, label in labels(MEETING_COLUMNS, lang)],
        _meetings(report, lang),
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


def to_docx(report: dict[str, Any], lang: Lang = "vi") -> bytes:
    from docx import Document as WordDocument  # imported on use, as openpyxl

    document = WordDocument()
    document.add_heading(title(report, lang), level=1)
    document.add_paragraph(_compiled(report, lang))
    document.add_heading(word("part_province", lang), level=2)
    _table(
        document,
        [word("figure", lang), word("value", lang)],
        [
            [label, cell(key, report["province"].get(key), lang)]
            for key, label in labels(PROVINCE_LINES, lang)
        ],
    )
    document.add_heading(word("part_endpoints", lang), level=2)
    endpoints = labels(ENDPOINT_COLUMNS, lang)
    _table(document, [label for _, label in endpoints], _rows(endpoints, report["endpoints"], lang))
    document.add_heading(word("part_proposals", lang), level=2)
    if report["proposals"]:  # all an endpoint wrote: problems, proposals, other comments
        proposals = labels(PROPOSAL_COLUMNS, lang)
        rows = _rows(proposals, report["proposals"], lang)
        _table(document, [label for _, label in proposals], rows)
    else:
        document.add_paragraph(word("none", lang))
    document.add_heading(word("part_not_reported", lang), level=2)
    document.add_paragraph(", ".join(report["not_reported"]) or word("none", lang))
    document.add_heading(word("part_quality", lang), level=2)
    worst = report.get("quality", {}).get("worst_endpoints", [])
    document.add_paragraph(
        word("worst", lang)
        + (
            ", ".join(f"{w['endpoint']} ({w['quality_average']})" for w in worst)
            or word("none", lang)
        )
    )
    _table(
        document,
        [label for _, label in labels(COMPLAINT_COLUMNS, lang)],
        _complaints(report, lang),
    )
    document.add_heading(word("part_meetings", lang), level=2)
    _table(
        document,
        [label for _, label in labels(MEETING_COLUMNS, lang)],
        _meetings(report, lang),
    )
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
