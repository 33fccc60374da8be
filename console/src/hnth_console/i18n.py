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
    "province": ("Tỉnh", "Province"),
    "username": ("Tên đăng nhập", "Username"),
    "password": ("Mật khẩu", "Password"),
    "otp": ("Mã xác thực 6 số", "6-digit code"),
    "otp_help": (
        "Mở ứng dụng xác thực (Google Authenticator, Microsoft Authenticator…) và nhập mã.",
        "Open your authenticator app (Google Authenticator, Microsoft Authenticator…) "
        "and type its code.",
    ),
    "confirm": ("Xác nhận", "Confirm"),
    "start_over": ("Đăng nhập lại từ đầu", "Start over"),
    "forgot_password": (
        "Quên mật khẩu? Liên hệ Sở TT&TT để được cấp lại.",
        "Forgot your password? Ask the IT department to reset it.",
    ),
    "wrong_password": (
        "Tên đăng nhập hoặc mật khẩu không đúng.",
        "The username or the password is wrong.",
    ),
    "otp_wrong": ("Mã xác thực không đúng hoặc đã hết hạn.", "The code is wrong or too old."),
    "locked_out": (
        "Tài khoản tạm khóa vì nhập sai nhiều lần. Hãy thử lại sau",
        "This account is locked after too many failed sign-ins. Try again after",
    ),
    "sso_button": (
        "Đăng nhập bằng tài khoản của tỉnh",
        "Sign in with the province's account",
    ),
    "sso_or": ("hoặc", "or"),
    "sso_unknown_person": (
        "Tài khoản của tỉnh mà bạn vừa dùng chưa gắn với tài khoản HNTH Ops nào. Hãy nhờ "
        "quản trị viên của Sở TT&TT tạo tài khoản cho bạn với cùng địa chỉ e-mail, hoặc "
        "đăng nhập bằng tên đăng nhập và mật khẩu.",
        "The province's account you used belongs to no HNTH Ops account. Ask the IT "
        "department's operator to create one with the same e-mail address, or sign in "
        "with a username and password.",
    ),
    "sso_refused": (
        "Chưa đăng nhập được bằng tài khoản của tỉnh (đã hủy hoặc bị từ chối). Hãy thử lại.",
        "Signing in with the province's account did not finish (cancelled or refused). Try again.",
    ),
    "sso_unavailable": (
        "Hệ thống đăng nhập của tỉnh đang không trả lời. Hãy đăng nhập bằng mật khẩu hoặc "
        "thử lại sau ít phút.",
        "The province's sign-in service does not answer. Sign in with your password or "
        "try again in a few minutes.",
    ),
    "sso_not_here": (
        "Tỉnh này không dùng đăng nhập bằng tài khoản của tỉnh.",
        "This province does not sign in with the province's account.",
    ),
    "signin_unavailable": (
        "Chưa đăng nhập được: dịch vụ đăng ký không trả lời. Hãy thử lại sau ít phút.",
        "Cannot sign in now: the registration service does not answer. Try again in a few minutes.",
    ),
    "session_ended": (
        "Phiên làm việc đã hết hạn hoặc bị thu hồi. Hãy đăng nhập lại.",
        "Your session has ended or was revoked. Please sign in again.",
    ),
    "signed_out": ("Bạn đã đăng xuất.", "You have signed out."),
    "password_set": (
        "Đã đặt mật khẩu. Hãy đăng nhập bằng mật khẩu mới.",
        "Your password is set. Sign in with it.",
    ),
    "form_expired": (
        "Biểu mẫu đã hết hạn. Hãy tải lại trang và gửi lại.",
        "This form has expired. Reload the page and send it again.",
    ),
    "set_password": ("Đặt mật khẩu", "Set your password"),
    "new_password": ("Mật khẩu mới", "New password"),
    "current_password": ("Mật khẩu hiện tại", "Current password"),
    "confirm_password": ("Nhập lại mật khẩu mới", "New password again"),
    "password_rules": (
        "Ít nhất 12 ký tự, không chứa tên đăng nhập, không phải mật khẩu phổ biến.",
        "At least 12 characters, not containing the username, not a common password.",
    ),
    "not_the_same": ("Hai mật khẩu không giống nhau.", "The two passwords differ."),
    "invalid_link": (
        "Liên kết không hợp lệ, đã dùng hoặc đã hết hạn (24 giờ). Hãy đề nghị Sở TT&TT gửi lại.",
        "This link is invalid, used or expired (24 hours). Ask the IT department for a new one.",
    ),
    "save": ("Lưu", "Save"),
    "role_operator": ("Sở TT&TT", "IT department"),
    "role_registrar": ("Đơn vị đăng ký", "Registrar"),
    "role_technician": ("Kỹ thuật viên", "Technician"),
    "role_viewer": ("Xem", "Viewer"),
    "account": ("Tài khoản của tôi", "My account"),
    "accounts": ("Tài khoản", "Accounts"),
    "audit": ("Nhật ký truy cập", "Audit log"),
    "display_name": ("Họ tên", "Display name"),
    "role": ("Vai trò", "Role"),
    "scope": ("Phạm vi", "Scope"),
    "phone": ("Điện thoại", "Phone"),
    "two_factor": ("Xác thực hai lớp", "Two-factor"),
    "on": ("Đang bật", "On"),
    "off": ("Chưa bật", "Off"),
    "change_password": ("Đổi mật khẩu", "Change password"),
    "wrong_current_password": ("Mật khẩu hiện tại không đúng.", "The current password is wrong."),
    "password_changed": ("Đã đổi mật khẩu.", "Your password is changed."),
    "totp_why": (
        "Bật xác thực hai lớp: mỗi lần đăng nhập cần thêm mã 6 số từ ứng dụng trên điện thoại.",
        "Turn on two-factor: each sign-in then also asks for a 6-digit code from a phone app.",
    ),
    "totp_enrol": ("Bật xác thực hai lớp", "Turn on two-factor"),
    "totp_scan": (
        "Quét mã QR bằng ứng dụng xác thực (hoặc nhập khóa bí mật), rồi nhập mã 6 số để xác nhận.",
        "Scan the QR code with an authenticator app (or type the secret), then confirm with "
        "its 6-digit code.",
    ),
    "totp_secret": ("Khóa bí mật", "Secret"),
    "totp_enrolled": ("Đã bật xác thực hai lớp.", "Two-factor is on."),
    "totp_required": (
        "Tỉnh yêu cầu vai trò của bạn dùng xác thực hai lớp: hãy bật ngay bên dưới.",
        "Your province requires two-factor for your role: turn it on below.",
    ),
    "totp_remove": ("Tắt xác thực hai lớp", "Turn off two-factor"),
    "totp_removed": ("Đã tắt xác thực hai lớp.", "Two-factor is off."),
    "sessions": ("Phiên đăng nhập", "Sessions"),
    "signout_everywhere": ("Đăng xuất khỏi mọi thiết bị", "Sign out everywhere"),
    "all": ("Tất cả", "All"),
    "active": ("Đang hoạt động", "Active"),
    "disabled": ("Đã khóa", "Disabled"),
    "locked_until": ("Tạm khóa đến", "Locked until"),
    "show": ("Xem", "Show"),
    "disable": ("Khóa", "Disable"),
    "enable": ("Mở khóa", "Enable"),
    "reset_password": ("Gửi liên kết đặt lại mật khẩu", "Send a password reset link"),
    "new_account": ("Tạo tài khoản", "New account"),
    "create": ("Tạo", "Create"),
    "password_or_link": (
        "Bỏ trống mật khẩu để gửi liên kết đặt mật khẩu qua e-mail (cần e-mail).",
        "Leave the password empty to e-mail a set-password link (needs an e-mail).",
    ),
    "done_created": ("Đã tạo tài khoản", "Account created"),
    "done_disabled": (
        "Đã khóa tài khoản (mọi phiên bị thu hồi)",
        "Account disabled (sessions revoked)",
    ),
    "done_enabled": ("Đã mở khóa tài khoản", "Account enabled"),
    "done_reset_sent": ("Đã gửi liên kết đặt lại mật khẩu", "Reset link sent"),
    "from_day": ("Từ ngày", "From"),
    "to_day": ("Đến ngày", "To"),
    "actor": ("Người thực hiện", "Actor"),
    "audit_login": ("Đăng nhập", "Signed in"),
    "audit_login_failed": ("Đăng nhập sai", "Sign-in failed"),
    "audit_locked_out": ("Tạm khóa do sai nhiều lần", "Locked out"),
    "audit_logout": ("Đăng xuất", "Signed out"),
    "audit_account_created": ("Tạo tài khoản", "Account created"),
    "audit_account_changed": ("Sửa tài khoản", "Account changed"),
    "audit_account_disabled": ("Khóa tài khoản", "Account disabled"),
    "audit_account_enabled": ("Mở khóa tài khoản", "Account enabled"),
    "audit_password_reset": ("Đặt lại mật khẩu", "Password reset"),
    "audit_password_set": ("Đặt mật khẩu", "Password set"),
    "audit_totp_enrolled": ("Bật xác thực hai lớp", "Two-factor enrolled"),
    "audit_tokens_revoked": ("Thu hồi phiên", "Tokens revoked"),
    "audit_sso_login": ("Đăng nhập SSO", "SSO sign-in"),
    "audit_sso_refused": ("SSO bị từ chối", "SSO refused"),
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
    "materials": ("Tài liệu", "Materials"),
    "record_missing": ("Thiếu biên bản", "Record missing"),
    "no_materials": ("Chưa có tài liệu.", "No materials yet."),
    "materials_refused": (
        "Bạn chưa có quyền xem tài liệu cuộc họp này; hãy đề nghị Sở TT&TT cung cấp.",
        "You may not read this meeting's materials; ask the IT department for access.",
    ),
    "file": ("Tệp", "File"),
    "size": ("Dung lượng", "Size"),
    "uploaded_by": ("Người tải lên", "Uploaded by"),
    "material_agenda": ("Chương trình", "Agenda"),
    "material_slides": ("Bài trình bày", "Slides"),
    "material_decision": ("Kết luận", "Decision"),
    "material_minutes": ("Biên bản", "Minutes"),
    "material_other": ("Khác", "Other"),
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
    # technician's pages

    # clerk's pages

    # duty officer's pages

    # everywhere
}


def translator(lang: str) -> Translate:
    """`t(key)` in `lang` (`en`, else Vietnamese); an unknown key shows as itself."""
    index = 1 if lang == "en" else 0

    def t(key: str) -> str:
        words = TEXT.get(key)
        return words[index] if words else key

    return t
