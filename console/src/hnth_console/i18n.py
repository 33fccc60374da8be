"""The console's words, Vietnamese first, English on request (cookie `lang=en`)."""

from __future__ import annotations

from collections.abc import Callable

Translate = Callable[[str], str]

TEXT: dict[str, tuple[str, str]] = {
    # key: (Vietnamese, English)
    "app": ("HNTH Ops: bảng điều hành", "HNTH Ops: operator console"),
    "schedule": ("Lịch họp", "Schedule"),
    "board": ("Bảng sẵn sàng", "Readiness board"),
    "notices": ("Thông báo", "Notices"),
    "incidents": ("Sự cố và kiểm tra", "Incidents and inspections"),
    "reports": ("Báo cáo", "Reports"),
    "dead_letters": ("Thư lỗi (DLQ)", "Dead letters"),
    "new_meeting": ("Đăng ký họp", "Register a meeting"),
    "login": ("Đăng nhập", "Sign in"),
    "logout": ("Đăng xuất", "Sign out"),
    "token": ("Mã xác thực (token)", "Token"),
    "token_help": (
        "Dán mã do Sở TT&TT cấp (hnth token issue).",
        "Paste the token the IT department issued (hnth token issue).",
    ),
    "bad_token": ("Mã không hợp lệ hoặc đã hết hạn.", "The token is invalid or has expired."),
    "forbidden": ("Vai trò của bạn không được xem trang này.", "Your role may not see this page."),
    "backend_error": ("Dịch vụ trả lỗi", "A service answered with an error"),
    "week": ("Tuần", "Week"),
    "day": ("Ngày", "Day"),
    "previous": ("Trước", "Previous"),
    "next": ("Sau", "Next"),
    "all_endpoints": ("Mọi điểm cầu", "All endpoints"),
    "endpoint": ("Điểm cầu", "Endpoint"),
    "endpoints": ("Các điểm cầu", "Endpoints"),
    "main_endpoint": ("Điểm cầu chính", "Main endpoint"),
    "title": ("Tên hội nghị", "Title"),
    "host_unit": ("Đơn vị chủ trì", "Host unit"),
    "chair": ("Chủ trì", "Chair"),
    "start": ("Bắt đầu", "Start"),
    "end": ("Kết thúc", "End"),
    "status": ("Trạng thái", "Status"),
    "bridge": ("Cầu (MCU)", "Bridge"),
    "no_meetings": ("Không có cuộc họp.", "No meetings."),
    "timeline": ("Diễn biến", "Timeline"),
    "at": ("Thời điểm", "At"),
    "event": ("Sự kiện", "Event"),
    "details": ("Chi tiết (quy định, căn cứ)", "Details (rule, source)"),
    "rule": ("Quy định", "Rule"),
    "source": ("Căn cứ", "Source"),
    "recipient": ("Người nhận", "Recipient"),
    "channel": ("Kênh", "Channel"),
    "kind": ("Loại", "Kind"),
    "sent_at": ("Đã gửi", "Sent"),
    "acknowledged_at": ("Đã xác nhận", "Acknowledged"),
    "readiness": ("Kiểm tra kỹ thuật", "Readiness checks"),
    "due_at": ("Hạn", "Due"),
    "checked_by": ("Người kiểm tra", "Checked by"),
    "state": ("Tình trạng", "State"),
    "failed_items": ("Hạng mục lỗi", "Failed items"),
    "today_tomorrow": ("Hôm nay và ngày mai", "Today and tomorrow"),
    "refreshes": ("Tự làm mới sau", "Refreshes every"),
    "seconds": ("giây", "seconds"),
    "checks_not_open": ("Chưa mở danh sách kiểm tra.", "No checklist open yet."),
    "unacknowledged": ("Chưa xác nhận hoặc gửi lỗi", "Not acknowledged or failed"),
    "all_acknowledged": ("Mọi thông báo đã được xác nhận.", "Every notice is acknowledged."),
    "resend_note": (
        "Dịch vụ thông báo tự gửi lại theo quy định; bấm “Gửi lại” để gửi thêm một lần "
        "(được ghi lại), hoặc liên hệ trực tiếp nếu quá hạn.",
        "The notification service retries by the rules; press “Resend” to send it once more "
        "(recorded), or call the recipient if overdue.",
    ),
    "resend": ("Gửi lại", "Resend"),
    "resent": ("Đã lên lịch gửi lại cho", "Resend scheduled to"),
    "resend_of": ("gửi lại", "resent"),
    "all_bridges": ("Mọi cầu", "All bridges"),
    "virtual_room": ("Phòng họp ảo", "Virtual room"),
    "discard": ("Bỏ qua", "Discard"),
    "discarded": ("Đã bỏ qua", "Discarded"),
    "discard_reason": ("Lý do bỏ qua", "Why it needs no replay"),
    "reason_required": ("Cần nêu lý do bỏ qua.", "A reason is required to discard."),
    "already_resolved": ("Thư lỗi này đã được xử lý", "This dead letter was already dealt with"),
    "resolved": ("Đã xử lý", "Dealt with"),
    "by": ("Người xử lý", "By"),
    "meeting": ("Cuộc họp", "Meeting"),
    "open_incidents": ("Sự cố đang mở", "Open incidents"),
    "no_incidents": ("Không có sự cố đang mở.", "No open incident."),
    "opened_at": ("Mở lúc", "Opened"),
    "description": ("Mô tả", "Description"),
    "inspections_overdue": ("Kiểm tra định kỳ quá hạn", "Inspections overdue"),
    "inspections_due": ("Kiểm tra định kỳ sắp đến hạn", "Inspections due"),
    "none": ("Không có.", "None."),
    "year": ("Năm", "Year"),
    "compliance": ("Chỉ số tuân thủ", "Compliance"),
    "checks_compliance": ("Họp được kiểm tra đúng hạn", "Meetings checked by T-1h"),
    "inspections_compliance": ("Điểm cầu kiểm tra đúng hạn", "Endpoints inspected on time"),
    "endpoints_reported": ("Điểm cầu đã nộp báo cáo năm", "Endpoints that reported"),
    "annual_reports": ("Báo cáo năm của các điểm cầu", "Endpoints' annual reports"),
    "reported": ("Đã nộp", "Reported"),
    "not_reported": ("Chưa nộp", "Not yet"),
    "download": ("Tải về", "Download"),
    "meetings_held": ("Số cuộc họp", "Meetings held"),
    "reason": ("Lý do", "Reason"),
    "service": ("Dịch vụ", "Service"),
    "error": ("Lỗi", "Error"),
    "replay": ("Phát lại", "Replay"),
    "replayed": ("Đã phát lại", "Replayed"),
    "no_dead_letters": ("Không có thư lỗi.", "No dead letters."),
    "submit": ("Gửi", "Submit"),
    "register": ("Đăng ký", "Register"),
    "registered": ("Đã đăng ký", "Registered"),
    "hold_ctrl": ("Giữ Ctrl để chọn nhiều.", "Hold Ctrl to pick several."),
    "signed_in_as": ("Đang đăng nhập", "Signed in as"),
    "pending": ("chờ", "pending"),
    "passed": ("đạt", "passed"),
    "failed": ("lỗi", "failed"),
    "missed": ("quá hạn", "missed"),
    "requested": ("chờ xếp lịch", "requested"),
    "scheduled": ("đã xếp lịch", "scheduled"),
    "rejected": ("bị từ chối", "rejected"),
    "cancelled": ("đã hủy", "cancelled"),
    "sent": ("đã gửi", "sent"),
    "urgent_reason": (
        "Lý do họp khẩn (trong thời hạn thông báo, chỉ Sở TT&TT)",
        "Urgent reason (inside the notice lead time, IT department only)",
    ),
}


def translator(lang: str) -> Translate:
    """`t(key)` in `lang` (`en`, else Vietnamese); an unknown key shows as itself."""
    index = 1 if lang == "en" else 0

    def t(key: str) -> str:
        words = TEXT.get(key)
        return words[index] if words else key

    return t
