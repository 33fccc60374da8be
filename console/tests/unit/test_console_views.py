"""What the console's pages decide, without I/O: colours, periods, what needs attention."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hnth_console import meeting_views, views
from hnth_console.i18n import translator

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 08:00 in Tuyên Quang
WARN = timedelta(minutes=30)


def test_a_pending_check_turns_red_only_when_its_deadline_is_near() -> None:
    def due_in(minutes: int) -> dict[str, str]:
        return {"state": "pending", "due_at": (NOW + timedelta(minutes=minutes)).isoformat()}

    assert views.alarm(due_in(31), NOW, WARN) == "waiting"
    assert views.alarm(due_in(30), NOW, WARN) == "late"
    assert views.alarm(due_in(-5), NOW, WARN) == "late"
    assert views.alarm({"state": "passed", "due_at": NOW.isoformat()}, NOW, WARN) == "ok"
    assert views.alarm({"state": "missed"}, NOW, WARN) == "bad"
    assert views.alarm({"state": "failed"}, NOW, WARN) == "bad"


def test_a_meeting_row_takes_the_worst_colour_of_its_endpoints() -> None:
    meeting = {"id": "m1"}
    checks = [
        {"endpoint": "A", "state": "passed"},
        {"endpoint": "B", "state": "pending", "due_at": (NOW + timedelta(minutes=10)).isoformat()},
    ]
    replaced = {"endpoint": "C", "state": "pending", "due_at": NOW.isoformat(), "closed": True}
    [row] = views.board_rows([meeting], {"m1": [*checks, replaced]}, NOW, WARN)
    assert row["alarm"] == "late"
    assert [c["alarm"] for c in row["checks"]] == ["ok", "late"]
    [empty] = views.board_rows([{"id": "m2"}], {}, NOW, WARN)
    assert (empty["alarm"], empty["checks"]) == ("waiting", [])
    # a line down at A since its check passed: red; a lesser incident: the warning colour
    down = [{**checks[0], "open_incidents": [{"severity": "high"}]}, checks[1]]
    [row] = views.board_rows([meeting], {"m1": down}, NOW, WARN)
    assert [c["alarm"] for c in row["checks"]] == ["bad", "late"]
    slight = [{**checks[0], "open_incidents": [{"severity": "low"}]}, checks[1]]
    [row] = views.board_rows([meeting], {"m1": slight}, NOW, WARN)
    assert [c["alarm"] for c in row["checks"]] == ["late", "late"]


def test_week_runs_monday_to_sunday_in_the_provinces_zone() -> None:
    start, end, days = views.period("week", date(2026, 11, 26), ZONE)  # a Thursday
    assert days[0] == date(2026, 11, 23)
    assert days[-1] == date(2026, 11, 29)
    assert start.utcoffset() == timedelta(hours=7)
    assert end - start == timedelta(days=7)
    _, _, one = views.period("day", date(2026, 11, 26), ZONE)
    assert one == [date(2026, 11, 26)]


def test_meetings_fall_on_their_local_day() -> None:
    late_evening_utc = "2026-11-23T18:00:00+00:00"  # 01:00 on the 24th locally
    grouped = views.by_day(
        [{"start": late_evening_utc}], [date(2026, 11, 23), date(2026, 11, 24)], ZONE
    )
    assert grouped[date(2026, 11, 23)] == []
    assert len(grouped[date(2026, 11, 24)]) == 1


def test_notices_wanting_attention_are_the_unacknowledged_and_the_failed() -> None:
    notice = {"kind": "meeting_notice", "channel": "email", "role": "technician"}
    notices = [
        {**notice, "id": 1, "status": "sent", "acknowledged_at": None},
        {**notice, "id": 2, "status": "sent", "acknowledged_at": "2026-11-23T08:00:00+07:00"},
        {**notice, "id": 3, "status": "failed"},
        {**notice, "id": 4, "status": "pending"},
        # acted on, not acknowledged: an SMS copy, an alert, the IT department's own copy
        {**notice, "id": 5, "status": "sent", "channel": "sms"},
        {**notice, "id": 6, "status": "sent", "kind": "check_alert"},
        {**notice, "id": 7, "status": "sent", "role": "it_department"},
        {**notice, "id": 8, "status": "failed", "kind": "escalation"},  # failed: still shown
        # the meeting changed since: a newer notice to the same party replaces these
        {**notice, "id": 9, "status": "sent", "replaced_by": "n-10"},
        {**notice, "id": 10, "status": "failed", "replaced_by": "n-11"},
        # a resend is a copy its original stands for, unless the copy itself failed
        {**notice, "id": 11, "status": "sent", "resend_of": "n-1"},
        {**notice, "id": 12, "status": "failed", "resend_of": "n-1"},
    ]
    assert [n["id"] for n in views.unacknowledged(notices)] == [1, 3, 8, 12]
    said = meeting_views.notice_state(notices[8], ZONE, translator("vi"))
    assert said == "đã được thay bằng thông báo mới hơn"
    # the one to ring says so; an SMS copy, which asks for nothing, does not
    waiting = meeting_views.notice_state(notices[0], ZONE, translator("vi"))
    assert waiting.endswith("; chưa xác nhận")
    assert "chưa xác nhận" not in meeting_views.notice_state(notices[4], ZONE, translator("vi"))


def test_inspections_split_into_overdue_and_due_later() -> None:
    tasks = [
        {"id": 1, "state": "open", "due_at": (NOW - timedelta(days=1)).isoformat()},
        {"id": 2, "state": "open", "due_at": (NOW + timedelta(days=1)).isoformat()},
        {"id": 3, "state": "done", "due_at": (NOW - timedelta(days=1)).isoformat()},
    ]
    late, later = views.overdue(tasks, NOW)
    assert ([t["id"] for t in late], [t["id"] for t in later]) == ([1], [2])


def test_compliance_bars_show_nothing_measured_as_none() -> None:
    bars = views.compliance_bars(
        {
            "checks_compliance": 0.75,
            "notices_lead_time_compliance": 0.9,
            "notices_acknowledged_share": 0.625,
            "inspections_compliance": None,
            "endpoints": 4,
            "endpoints_reported": 1,
        }
    )
    assert [(b["key"], b["percent"]) for b in bars] == [
        ("checks_compliance", 75.0),
        ("notices_lead_time_compliance", 90.0),
        ("notices_acknowledged_share", 62.5),
        ("inspections_compliance", None),
        ("endpoints_reported", 25.0),
    ]


def test_a_bridge_shows_only_the_meetings_on_it() -> None:
    meetings = [
        {"id": "a", "slot": {"bridge": "MCU-TQ", "virtual_room": "VR-01"}},
        {"id": "b", "slot": {"bridge": "MCU-2", "virtual_room": "VR-01"}},
        {"id": "c", "slot": None},  # not (yet) assigned
        {"id": "d"},
    ]
    assert [m["id"] for m in views.on_bridge(meetings, "MCU-TQ")] == ["a"]
    assert views.on_bridge(meetings, "MCU-X") == []


def test_a_deadline_at_local_midnight_is_the_day_before() -> None:
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    assert views.due_day("2026-12-15T17:00:00+00:00", zone) == "15/12/2026"  # 16/12 00:00
    assert views.due_day("2026-12-15T01:00:00+00:00", zone) == "15/12/2026"  # 08:00
    assert views.due_day(None, zone) == ""


def test_an_audit_lines_details_are_words_not_codes() -> None:
    vi, en = translator("vi"), translator("en")
    assert views.audit_detail({"role": "registrar"}, en, ZONE) == "role: Registrar"
    assert views.audit_detail({"reason": "password"}, vi, ZONE) == "lý do: sai mật khẩu"
    assert views.audit_detail({"totp": False}, en, ZONE) == "two-factor: no"
    until = {"until": "2026-12-06T03:00:00+00:00"}
    assert views.audit_detail(until, vi, ZONE) == "đến: 10:00 06/12/2026"
    # a key or a reason the console has no words for yet: shown as it is
    assert (
        views.audit_detail({"claim": "email", "reason": "new"}, en, ZONE)
        == "claim: email; reason: new"
    )
    assert views.audit_detail(None, en, ZONE) == ""
    phone, role = {"was": "0912", "now": None}, {"was": "operator", "now": "viewer"}
    changed = {"changed": {"phone": phone, "role": role}}
    assert views.audit_detail(changed, vi, ZONE) == "Điện thoại: 0912 → —; Vai trò: Sở KH&CN → Xem"
    endpoints = {"changed": {"endpoints": {"was": [], "now": ["TQ-XA-1", "TQ-XA-2"]}}}
    assert views.audit_detail(endpoints, en, ZONE) == "Endpoints: — → TQ-XA-1, TQ-XA-2"


def test_a_meeting_lists_its_own_incidents_and_those_open_at_its_endpoints() -> None:
    meeting = {"id": "m1", "main_endpoint": "A", "endpoints": ["B"], "reached": ["C"]}
    incidents = [
        {"id": "own", "meeting_id": "m1", "endpoint": "Z", "state": "resolved"},
        {"id": "line-down", "endpoint": "C", "state": "open"},  # reported with no meeting
        {"id": "fixed", "endpoint": "B", "state": "resolved"},
        {"id": "elsewhere", "endpoint": "Y", "state": "open"},
    ]
    found = meeting_views.incidents_of(meeting, incidents)
    assert [i["id"] for i in found] == ["own", "line-down"]


def test_a_day_and_time_is_read_as_people_type_it() -> None:
    """As the hint says, as every page shows one, or as a browser's picker sends it."""
    expected = datetime(2027, 1, 15, 8, 0, tzinfo=ZONE)
    for typed in ("2027-01-15 08:00", "15/01/2027 08:00", "08:00 15/01/2027", "2027-01-15T08:00"):
        assert views.typed_time(f" {typed} ", ZONE) == expected
    for wrong in ("15/01 08:00", "tomorrow", "2027-13-01 08:00", ""):
        with pytest.raises(ValueError, match="no day and time"):
            views.typed_time(wrong, ZONE)


def test_a_technicians_account_says_where_its_endpoints_notices_go() -> None:
    """The notices follow the directory's technician, not the account: told when they differ."""
    endpoints = [
        {"code": "A", "technician": {"name": "Lý Ngọc Đạt", "email": "Kythuat.a@tq.gov.vn"}},
        {"code": "B", "technician": {"name": "Hà Thu", "email": "ha.thu@tq.gov.vn"}},
    ]
    account = {"role": "technician", "endpoints": ["A", "B"], "email": "ha.thu@tq.gov.vn"}
    [elsewhere] = views.notices_elsewhere(account, endpoints)
    assert (elsewhere["code"], elsewhere["name"]) == ("A", "Lý Ngọc Đạt")
    assert (
        views.notices_elsewhere(
            {**account, "email": "KYTHUAT.A@tq.gov.vn", "endpoints": ["A"]}, endpoints
        )
        == []
    )
    assert views.notices_elsewhere({"role": "registrar", "endpoints": ["A"]}, endpoints) == []


def test_a_change_not_yet_decided_is_said_beside_the_scheduled_status() -> None:
    assigned = {"type": "SlotAssigned", "revision": 0}
    meeting = {"status": "scheduled", "revision": 1, "timeline": [assigned]}
    assert meeting_views.change_pending(meeting)
    decided = {**meeting, "timeline": [assigned, {"type": "SlotAssigned", "revision": 1}]}
    assert not meeting_views.change_pending(decided)
    assert not meeting_views.change_pending({**meeting, "revision": 0})
    assert not meeting_views.change_pending({**meeting, "status": "requested"})


def test_a_figure_is_written_as_its_reader_writes_it() -> None:
    assert views.decimal(77.5, "vi") == "77,5"
    assert views.decimal(77.5, "en") == "77.5"
    assert views.decimal(80.0, "vi") == "80"
    assert views.decimal(450.0, "vi", 0) == "450"  # a whole figure keeps its zeros
    assert views.decimal(0.5, "vi") == "0,5"
    assert views.decimal(0.66666, "vi", 2) == "0,67"


def test_a_meeting_a_refusal_names_is_a_link_and_the_rest_stays_text() -> None:
    said = "Điểm cầu <TQ> đã được xếp cho cuộc họp mtg-037e4a8b97ab (14:00 - 16:00)"
    shown = str(views.meetings_linked(said))
    assert '<a href="/meetings/mtg-037e4a8b97ab">mtg-037e4a8b97ab</a>' in shown
    assert "&lt;TQ&gt;" in shown  # escaped: a refusal's words are never markup
