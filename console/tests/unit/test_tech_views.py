"""The technician's pages' pure logic: countdowns in words, the rows of "my work", and the
forms read into what inspection records (or the reason next to each field)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hnth_console.i18n import translator
from hnth_console.pages import tech_views as tv

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # 08:00 in the province
HOUR = timedelta(hours=1)
WARN = timedelta(minutes=30)


def test_a_countdown_reads_as_words_in_both_languages() -> None:
    assert tv.countdown(NOW + timedelta(minutes=25), NOW, "vi") == "còn 25 phút"
    assert tv.countdown(NOW + timedelta(minutes=25), NOW, "en") == "25 min left"
    assert tv.countdown(NOW + timedelta(minutes=125), NOW, "vi") == "còn 2 giờ 5 phút"
    assert tv.countdown(NOW + timedelta(hours=2), NOW, "en") == "2 h left"
    assert (
        tv.countdown(NOW + timedelta(days=1, hours=3, minutes=7), NOW, "vi") == "còn 1 ngày 3 giờ"
    )
    assert tv.countdown(NOW + timedelta(seconds=30), NOW, "vi") == "còn 0 phút"
    assert tv.countdown(NOW - timedelta(minutes=10), NOW, "vi") == "quá hạn 10 phút"
    assert tv.countdown(NOW - timedelta(minutes=10), NOW, "en") == "10 min overdue"


def meeting(mid: str, start: datetime, endpoints: list[str], status: str = "scheduled") -> dict:
    return {
        "id": mid,
        "title": mid,
        "status": status,
        "start": start.isoformat(),
        "end": (start + 2 * HOUR).isoformat(),
        "endpoints": endpoints,
    }


def test_my_work_has_a_row_per_endpoint_of_mine_soonest_deadline_first() -> None:
    soon = meeting("soon", NOW + timedelta(minutes=85), ["A", "B"])
    later = meeting("later", NOW + 26 * HOUR, ["A"])
    gone = meeting("gone", NOW + 3 * HOUR, ["A"], status="cancelled")
    due = (NOW + timedelta(minutes=25)).isoformat()
    readiness = {"soon": [{"endpoint": "A", "state": "passed", "due_at": due}]}
    rows = tv.work_rows([later, soon, gone], readiness, ["A"], NOW, WARN, HOUR, "vi")
    assert [(r["meeting"]["id"], r["endpoint"]) for r in rows] == [("soon", "A"), ("later", "A")]
    first, second = rows
    assert (first["state"], first["alarm"], first["left"], first["opened"]) == (
        "passed",
        "ok",
        "",
        True,
    )
    # no checklist yet: the deadline is the province's lead time before the start
    assert second["due"] == NOW + 25 * HOUR
    assert (second["state"], second["alarm"], second["opened"]) == ("pending", "waiting", False)
    assert second["left"] == "còn 1 ngày 1 giờ"


def test_a_pending_check_near_or_past_its_deadline_is_red() -> None:
    soon = meeting("soon", NOW + timedelta(minutes=85), ["A"])
    [row] = tv.work_rows([soon], {}, ["A"], NOW, WARN, HOUR, "en")
    assert (row["alarm"], row["left"]) == ("late", "25 min left")
    past = meeting("past", NOW + timedelta(minutes=50), ["A"])
    [row] = tv.work_rows([past], {"past": None}, ["A"], NOW, WARN, HOUR, "vi")
    assert (row["alarm"], row["left"]) == ("late", "quá hạn 10 phút")
    failed = {"endpoint": "A", "state": "failed", "due_at": NOW.isoformat()}
    [row] = tv.work_rows([past], {"past": [failed]}, ["A"], NOW, WARN, HOUR, "vi")
    assert row["alarm"] == "bad"


def test_ended_meetings_and_open_tasks() -> None:
    done = meeting("done", NOW - 5 * HOUR, ["A"])
    running = meeting("running", NOW - HOUR, ["A"])
    assert [m["id"] for m in tv.ended([running, done], NOW)] == ["done"]
    tasks = [
        {"id": "2", "endpoint": "A", "state": "open", "due_at": "2026-12-20"},
        {"id": "1", "endpoint": "A", "state": "open", "due_at": "2026-12-10"},
        {"id": "3", "endpoint": "A", "state": "done", "due_at": "2026-12-01"},
        {"id": "4", "endpoint": "B", "state": "open", "due_at": "2026-12-01"},
    ]
    assert [t["id"] for t in tv.open_tasks(tasks, ["A"])] == ["1", "2"]


def all_ok() -> dict[str, str]:
    return {f"{i}_ok": "yes" for i in tv.ITEMS}


def test_the_checklist_reads_each_item_and_the_measured_figures() -> None:
    items, errors = tv.checklist({**all_ok(), "latency_ms": "42", "loss_pct": "0,5"})
    assert errors == {}
    assert items["line"] == {"ok": True, "note": None, "latency_ms": 42.0, "loss_pct": 0.5}
    assert items["power"] == {"ok": True, "note": None}
    items, errors = tv.checklist({**all_ok(), "audio_ok": "no", "audio_note": " tiếng rè "})
    assert (errors, items["audio"]) == ({}, {"ok": False, "note": "tiếng rè"})


def test_the_checklist_says_what_is_missing_next_to_each_field() -> None:
    form = {**all_ok(), "video_ok": "", "audio_ok": "no", "latency_ms": "-1", "loss_pct": "101"}
    _, errors = tv.checklist(form)
    assert errors == {
        "video_ok": "choose_ok",
        "audio_note": "note_needed",
        "latency_ms": "latency_ms_range",
        "loss_pct": "loss_pct_range",
    }
    assert tv.checklist({**all_ok(), "latency_ms": "nhanh"})[1] == {
        "latency_ms": "latency_ms_range"
    }
    assert tv.checklist({**all_ok(), "latency_ms": "nan"})[1] == {"latency_ms": "latency_ms_range"}


def test_an_incident_reads_its_time_in_the_provinces_zone() -> None:
    form = {"endpoint": "A", "what": "Mất tiếng", "severity": "high", "since": "07:40"}
    body, errors = tv.incident_body(form, ["A"], ZONE, NOW)
    assert errors == {}
    assert body == {
        "endpoint": "A",
        "what": "Mất tiếng",
        "severity": "high",
        "opened_at": "2026-12-02T07:40:00+07:00",
    }
    body, errors = tv.incident_body({**form, "since": "", "meeting_id": "m1"}, ["A"], ZONE, NOW)
    assert (errors, body["meeting_id"], "opened_at" in body) == ({}, "m1", False)
    body, errors = tv.incident_body({**form, "since": "2026-12-02 07:05"}, ["A"], ZONE, NOW)
    assert body["opened_at"] == "2026-12-02T07:05:00+07:00"


def test_an_incident_refused_before_it_is_sent() -> None:
    form = {"endpoint": "B", "what": " ", "severity": "huge", "since": "09:00"}
    _, errors = tv.incident_body(form, ["A"], ZONE, NOW)
    assert errors == {
        "endpoint": "not_my_endpoint",
        "what": "what_needed",
        "severity": "choose_severity",
        "since": "not_in_future",
    }
    assert (
        tv.incident_body({**form, "since": "hôm qua"}, [], ZONE, NOW)[1]["since"] == "time_format"
    )


def test_the_other_forms() -> None:
    assert tv.resolve_body({"cause": "Đứt cáp", "fix": ""}) == (
        {"cause": "Đứt cáp", "fix": ""},
        {"fix": "fix_needed"},
    )
    body, errors = tv.inspection_body(
        {**all_ok(), "faults": "Quạt kêu\n\n", "fixes": "Thay quạt", "line_provider_present": "yes"}
    )
    assert errors == {}
    assert body["faults"] == [{"description": "Quạt kêu"}]
    assert (body["fixes"], body["line_provider_present"]) == (["Thay quạt"], True)
    assert tv.annual_body({"effectiveness": "so-so"})[1] == {"effectiveness": "choose_one"}
    assert tv.annual_body({"effectiveness": "effective"})[0]["effectiveness"] == "effective"
    body, errors = tv.feedback_body({"line": "5", "audio": "4", "video": "9", "comment": "Tốt"})
    assert errors == {"video": "choose_score"}
    assert (body["line"], body["audio"], body["comment"]) == (5, 4, "Tốt")


def test_a_services_refusal_lands_next_to_the_field_it_names() -> None:
    errors = [
        {"field": "items.audio.note", "message": "Cần ghi rõ lỗi.", "source": "QĐ 09/2024"},
        {"field": "items.line.latency_ms", "message": "≥ 0"},
        {"field": "items.video", "message": "Thiếu"},
        {"field": "opened_at", "message": "Tương lai"},
    ]
    assert tv.service_errors(errors) == {
        "audio_note": "Cần ghi rõ lỗi. (QĐ 09/2024)",
        "latency_ms": "≥ 0",
        "video_ok": "Thiếu",
        "since": "Tương lai",
    }


def test_a_meeting_my_endpoint_joins_through_a_group_is_on_my_work() -> None:
    """A commune meeting names the group; registration lists the endpoints it reached."""
    communes = meeting("communes", NOW + 3 * HOUR, ["MAIN"]) | {"reached": ["MAIN", "X-1"]}
    [row] = tv.work_rows([communes], {}, ["X-1"], NOW, WARN, HOUR, "vi")
    assert (row["meeting"]["id"], row["endpoint"], row["state"]) == ("communes", "X-1", "pending")


def test_a_check_no_longer_asked_leaves_my_work() -> None:
    moved = meeting("moved", NOW + 3 * HOUR, ["A", "B"])
    closed = {"endpoint": "A", "state": "pending", "closed": True, "closed_reason": "changed"}
    assert tv.work_rows([moved], {"moved": [closed]}, ["A"], NOW, WARN, HOUR, "vi") == []


def test_each_notice_to_acknowledge_is_listed_once() -> None:
    meeting = {"id": "m1", "start": NOW.isoformat()}
    notice = {"recipient": "technician:TQ-UBND", "kind": "meeting_notice", "status": "sent"}
    listed = [
        {**notice, "id": "n1"},
        {**notice, "id": "n1-again", "resend_of": "n1"},  # its original stands for it
        {**notice, "id": "n0", "replaced_by": "n1"},  # a newer notice says how it stands
        {**notice, "id": "r1", "kind": "reminder_meeting"},  # reminders ask for nothing
        {**notice, "id": "s1", "channel": "sms"},  # nor does an SMS copy
    ]
    found = tv.to_acknowledge([meeting], [listed], ["TQ-UBND"], ZONE, translator("vi"))
    assert [x["notice"]["id"] for x in found] == ["n1"]
