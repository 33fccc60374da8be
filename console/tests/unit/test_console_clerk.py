"""The clerk's pages in words: free windows by day, a picked window filling the form, a
notice's and a check's state as a sentence (no exception text, no UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hnth_console import meeting_views as mv
from hnth_console.i18n import translator

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
VI, EN = translator("vi"), translator("en")


def test_windows_are_grouped_by_local_day_with_the_pick_in_local_time() -> None:
    windows = [
        {"start": "2026-12-03T01:00:00+00:00", "end": "2026-12-03T10:00:00+00:00", "bridge": "MCU"},
        {"start": "2026-12-03T17:00:00+00:00", "end": "2026-12-04T02:00:00+00:00", "bridge": "MCU"},
    ]
    days = mv.windows_by_day(windows, ZONE, VI)
    assert [d["label"] for d in days] == ["Thứ Năm 03/12/2026", "Thứ Sáu 04/12/2026"]
    first = days[0]["windows"][0]
    assert (first["value"], first["start"], first["end"]) == ("03/12/2026 08:00", "08:00", "17:00")
    assert days[1]["windows"][0]["value"] == "04/12/2026 00:00"


def test_the_finder_looks_from_today_or_later_and_never_past_its_last_day() -> None:
    today = date(2026, 12, 3)
    midnight = datetime(2026, 12, 3, tzinfo=ZONE)
    assert mv.finder_range(today, 7, ZONE, midnight - timedelta(hours=1)) == (
        midnight,
        midnight + timedelta(days=7),
    )
    later = midnight + timedelta(days=2, hours=9, minutes=15)
    assert mv.finder_range(today, 7, ZONE, later)[0] == later
    assert mv.finder_range(today, 1, ZONE, later) == (midnight + timedelta(days=1),) * 2


def test_a_window_that_fits_only_cascaded_says_so() -> None:
    windows = [
        {"start": "2026-12-03T01:00:00+00:00", "end": "2026-12-03T03:00:00+00:00",
         "bridge": "MCU-LS", "cascade": True},
        {"start": "2026-12-03T04:00:00+00:00", "end": "2026-12-03T06:00:00+00:00",
         "bridge": "MCU-LS"},
    ]  # fmt: skip
    [day] = mv.windows_by_day(windows, ZONE, EN)
    assert [w["cascade"] for w in day["windows"]] == [True, False]


def test_a_picked_window_fills_the_form() -> None:
    form = mv.picked_form("03/12/2026 08:00", "60", ["TQ-A", "TQ-B"], "k")
    assert form == {
        "picked": True,
        "idempotency_key": "k",
        "start": "03/12/2026 08:00",
        "minutes": "60",
        "endpoints": ["TQ-A", "TQ-B"],
        "main_endpoint": "",
    }


def test_the_main_endpoint_is_never_a_room_nobody_ticked() -> None:
    rooms = [{"code": "TQ-BDT", "unit": "BDT"}, {"code": "TQ-UBND", "unit": "VP-UBND"}]
    # a clerk's fresh form: their own unit's room; with it ticked too: still it
    assert mv.main_endpoint_of({}, "VP-UBND", rooms) == "TQ-UBND"
    assert mv.main_endpoint_of({"endpoints": ["TQ-A", "TQ-UBND"]}, "VP-UBND", rooms) == "TQ-UBND"
    # rooms ticked without their own, or no unit (the IT department): the person chooses
    assert mv.main_endpoint_of({"endpoints": ["TQ-A", "TQ-B"]}, "VP-UBND", rooms) == ""
    assert mv.main_endpoint_of({}, None, rooms) == ""
    assert mv.main_endpoint_of({"main_endpoint": "TQ-B"}, "VP-UBND", rooms) == "TQ-B"


def test_a_change_says_what_it_changed() -> None:
    at = "2026-12-01T01:00:00Z"
    slot = {"start": "2026-12-10T00:30:00Z", "end": "2026-12-10T01:30:00Z"}
    asked = {"type": "MeetingRequested", "at": at, "endpoints": ["TQ-A", "TQ-B"], **slot}
    swapped = {"type": "MeetingChanged", "at": at, "endpoints": ["TQ-A", "TQ-C"], **slot}
    moved = {**swapped, "start": "2026-12-10T02:00:00Z", "end": "2026-12-10T03:00:00Z"}
    lines = mv.timeline_lines([asked, swapped, moved], ZONE, VI, "vi", {})
    assert lines[1]["details"] == "thêm: TQ-C; bớt: TQ-B"  # the time did not move
    assert lines[2]["details"] == "từ 07:30 10/12 – 08:30, sang 09:00 10/12 – 10:00"  # no endpoint
    # a registration from before the timeline kept what was registered: the time, as before
    older = mv.timeline_lines([{"type": "MeetingRequested", "at": at}, swapped], ZONE, EN, "en", {})
    assert older[1]["details"] == "07:30 10/12 – 08:30"


def test_a_refusals_free_times_are_offered_while_they_are_still_free() -> None:
    rejected = {
        "rejection": {
            "alternatives": [
                {"start": "2026-12-11T01:00:00Z", "end": "2026-12-11T02:00:00Z"},
                {"start": "2026-12-11T03:00:00Z", "end": "2026-12-11T04:00:00Z"},
                {"start": "2026-12-11T05:00:00Z", "end": "2026-12-11T06:00:00Z"},
            ]
        }
    }
    picks = mv.alternative_picks(rejected, ZONE, VI)
    # scheduling now: the morning free until 11:00 local, the afternoon taken since
    windows = [{"start": "2026-12-11T00:00:00Z", "end": "2026-12-11T04:00:00Z"}]
    not_before = datetime(2026, 12, 11, 2, 0, tzinfo=UTC)  # the first is too soon now
    kept = mv.still_free(picks, windows, not_before)
    assert [p["words"] for p in kept] == ["10:00 – 11:00, Thứ Sáu 11/12/2026"]


def test_the_it_departments_decision_on_a_held_meeting_says_which_way() -> None:
    at = "2026-12-01T01:00:00Z"
    approved = {"type": "HoldDecided", "at": at, "approved": True}
    refused = {**approved, "approved": False, "reason": "Trùng lịch lãnh đạo"}
    lines = mv.timeline_lines([approved, refused], ZONE, VI, "vi", {})
    assert [line["what"] for line in lines] == ["Sở KH&CN duyệt", "Sở KH&CN không duyệt"]
    assert lines[1]["details"] == "Lý do: Trùng lịch lãnh đạo"


def test_materials_and_the_minutes_asked_for_read_in_words_on_the_timeline() -> None:
    at = "2026-12-01T01:00:00Z"
    uploaded = {"type": "MaterialUploaded", "at": at, "by": "vanthu", "filename": "gb.pdf"}
    due = {"type": "ReportDue", "at": at, "due_at": "2026-12-08T10:00:00Z"}
    lines = mv.timeline_lines([uploaded, due], ZONE, VI, "vi", {"vanthu": "Nguyễn Văn Bình"})
    assert lines[0]["what"] == "Đính kèm tài liệu"
    assert lines[0]["details"] == "bởi Nguyễn Văn Bình; gb.pdf"
    assert lines[1]["what"] == "Đề nghị nộp biên bản họp"
    assert lines[1]["details"] == "Hạn: 17:00 08/12/2026"
    assert not any("Material" in line["what"] for line in lines)


def test_a_notice_not_delivered_reads_as_a_sentence_with_the_next_try_in_local_time() -> None:
    notice = {
        "status": "pending",
        "channel": "email",
        "reason": "SMTPConnectError: Error connecting to 127.0.0.1 on port 2525; [Errno 111]",
        "next_attempt_at": "2026-12-03T13:15:00+00:00",
    }
    assert mv.notice_state(notice, ZONE, EN) == (
        "not delivered yet: the mail server did not answer; next try at 20:15 03/12"
    )
    assert mv.notice_state(notice, ZONE, VI) == (
        "chưa gửi được: máy chủ thư không trả lời; thử lại lúc 20:15 03/12"
    )
    refused = {**notice, "status": "failed", "reason": "550 5.1.1 no such mailbox"}
    assert (
        mv.notice_state(refused, ZONE, EN) == "could not be delivered: the mail server refused it"
    )
    sent = {"status": "sent", "sent_at": "2026-12-03T01:00:00Z", "acknowledged_at": None}
    assert mv.notice_state(sent, ZONE, EN) == "sent at 08:00 03/12"
    assert mv.failure_key("HTTP 502", "webhook") == "why_http_error"
    assert mv.failure_key("ConnectTimeout: ", "webhook") == "why_hook_silent"
    assert mv.failure_key("no address", "email") == "why_no_address"
    assert mv.failure_key("SMPP 0x0000000b Invalid destination", "sms") == "why_sms_refused"
    assert mv.failure_key("ConnectionError: ", "sms") == "why_sms_silent"


def test_checks_and_recipients_in_words() -> None:
    failed = {"state": "failed", "failed_items": ["audio", "power"]}
    assert mv.check_state(failed, ZONE, EN) == "not ready: audio, power"
    waiting = {"state": "pending", "due_at": "2026-12-03T00:00:00+00:00"}
    assert mv.check_state(waiting, ZONE, VI) == "chờ kiểm tra, hạn 07:00 03/12"
    cancelled = {**waiting, "closed": True, "closed_reason": "cancelled"}
    assert mv.check_state(cancelled, ZONE, VI) == "không còn cần kiểm tra: cuộc họp đã hủy"
    who = {"role": "it_department", "address": "it@tq.gov.vn"}
    assert mv.recipient_words(who, EN) == "IT department (it@tq.gov.vn)"
    assert mv.kind_words({"kind": "meeting_notice", "resend_of": "n1"}, EN) == (
        "meeting notice · resent"
    )
    again = {"kind": "meeting_notice", "resend_of": "n1", "resent_by": "operator-1"}
    assert mv.kind_words(again, EN) == "meeting notice · resent (operator-1)"


def test_a_timeline_line_is_words_not_json() -> None:
    rejected = {
        "type": "SlotRejected",
        "at": "2026-12-01T01:00:00Z",
        "rejection": {"conflicts": [{"message": "Điểm cầu bận", "message_en": "Endpoint busy"}]},
    }
    line = mv.timeline_words(rejected, ZONE, EN, "en")
    assert line == {"at": "08:00 01/12", "what": "Rejected", "details": "Endpoint busy"}
    assigned = {"type": "SlotAssigned", "at": "2026-12-01T01:00:00Z", "slot": {"bridge": "MCU-TQ"}}
    assert mv.timeline_words(assigned, ZONE, VI, "vi")["details"] == "Cầu (MCU): MCU-TQ"
    # a check's outcome as registration keeps it: which endpoint, how it went, who checked
    failed = {"endpoint": "TQ-STP", "outcome": "failed", "failed_items": ["audio"]}
    checked = {"type": "CheckCompleted", "at": "2026-12-01T01:00:00Z", "check": failed}
    assert mv.timeline_words(checked, ZONE, VI, "vi")["details"] == "TQ-STP: lỗi (âm thanh)"
    freed = {"type": "SlotReleased", "at": "2026-12-01T01:00:00Z", "reason": "changed"}
    assert "after the change" in mv.timeline_words(freed, ZONE, EN, "en")["details"]
    # people by the names registration gives them; a system (no account) by its id
    people = {"vanthu.tq": "Nguyễn Thị Thư", "kt.xa1": "Lê Văn Kỹ"}
    asked = {"type": "MeetingRequested", "at": "2026-12-01T01:00:00Z", "by": "vanthu.tq"}
    assert mv.timeline_words(asked, ZONE, VI, "vi", people)["details"] == "bởi Nguyễn Thị Thư"
    checked["check"] = {**failed, "checked_by": "kt.xa1"}
    assert mv.timeline_words(checked, ZONE, EN, "en", people)["details"].endswith("by Lê Văn Kỹ")
    by_system = {**asked, "by": "system:eoffice"}
    assert mv.timeline_words(by_system, ZONE, EN, "en", people)["details"] == "by system:eoffice"
