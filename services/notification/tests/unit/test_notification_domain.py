"""Pure rules and content: recipients by policy, keys, backoff, signatures, and every
template rendering in both languages (a template that fails is caught here, not at 3 a.m.)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.mime.text import MIMEText
from zoneinfo import ZoneInfo

import icalendar
import pytest
from icalendar.prop import vDDDTypes
from notification_samples import (
    BUSY,
    TENANT,
    access_link,
    assigned,
    cascaded,
    directory,
    inspection_cancelled,
    inspection_scheduled,
    rejected,
)

from hnth_contracts import (
    BackupSwitch,
    CheckCompleted,
    CheckOutcome,
    Conflict,
    ConflictKind,
    ReportDue,
    ReportKind,
    RuleRef,
    Window,
)
from hnth_contracts.policy import Policy, load_policy
from hnth_kit.settings import REPO_ROOT
from notification import content
from notification.domain import technicians
from notification.domain.access import own_contact, plan_access_link
from notification.domain.attempts import after_attempt, http_reply, retry, smtp_reply
from notification.domain.escalations import plan_deadline_escalation, plan_failure_escalation
from notification.domain.inspections import (
    plan_inspection_cancellation,
    plan_inspection_notices,
)
from notification.domain.meetings import Meeting, is_late, is_stale, meeting_from_slot
from notification.domain.notices import PERSONAL_KINDS, Calendar, Kind, Notice, Status
from notification.domain.planning import (
    plan_assignment,
    plan_cancellation,
    plan_check_alert,
    plan_rejection,
)
from notification.domain.reminders import plan_check_reminder, plan_meeting_reminder
from notification.domain.reports import (
    plan_report_reminder,
    plan_report_request,
    report_data,
    report_reminder_timer,
)
from notification.domain.signing import ack_token, verify_ack_token
from notification.domain.timers import meeting_timers
from notification.store import notice_document

POLICY = load_policy(REPO_ROOT / "policies", "tuyen-quang")
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
START = NOW + timedelta(days=5)


def meeting(revision: int = 0, previous: Meeting | None = None, **kw) -> Meeting:
    return meeting_from_slot(assigned("m-1", START, revision=revision, **kw), previous)


def test_the_notice_goes_to_every_party_the_policy_names_once_per_channel() -> None:
    notices = plan_assignment(meeting(), POLICY, ["https://eoffice/hook"], NOW)
    assert [(n.recipient.key, n.recipient.role, n.recipient.channel) for n in notices] == [
        ("it_department", "it_department", "email"),
        ("line_provider", "line_provider", "email"),
        ("power_company", "power_company", "email"),
        ("unit:VP-UBND", "host_unit", "email"),
        ("technician:TQ-UBND", "technician", "email"),
        ("technician:TQ-STTTT", "technician", "email"),
        ("technician:TQ-H-SONDUONG", "technician", "email"),
        ("webhook:https://eoffice/hook", "subscriber", "webhook"),
    ]
    assert len({n.id for n in notices}) == 8
    assert {n.rule.rule for n in notices} == {"notice.lead_time"}
    assert {n.calendar for n in notices} == {Calendar("m-1.tuyen-quang@hnth-ops", "REQUEST", 0)}


def test_a_redelivered_or_duplicated_assignment_plans_the_same_notice_ids() -> None:
    first = plan_assignment(meeting(), POLICY, [], NOW)
    again = plan_assignment(meeting(previous=meeting()), POLICY, [], NOW)
    assert [n.id for n in first] == [n.id for n in again]


def test_a_change_updates_everyone_and_cancels_for_dropped_endpoints() -> None:
    changed = meeting(1, previous=meeting(), endpoints=("TQ-UBND", "TQ-STTTT"))
    notices = plan_assignment(changed, POLICY, [], NOW)
    kinds = {(n.recipient.key, n.kind, n.calendar.method, n.calendar.sequence) for n in notices}  # type: ignore[union-attr]
    assert ("technician:TQ-H-SONDUONG", Kind.MEETING_CANCELLED, "CANCEL", 1) in kinds
    assert ("power_company", Kind.MEETING_CHANGED, "REQUEST", 1) in kinds
    replayed = meeting(1, previous=changed, endpoints=("TQ-UBND", "TQ-STTTT"))
    assert replayed.removed_endpoints == ("TQ-H-SONDUONG",), "a re-run plans the same"
    assert is_stale(0, changed)


def test_a_backup_switch_invites_the_backup_and_tells_the_replaced_endpoint() -> None:
    switch = BackupSwitch(
        replaced="TQ-H-SONDUONG",
        backup="TQ-H-SONDUONG-4G",
        reason="Kiểm tra T-1h không đạt",
        rule=POLICY.ref("backup.switch_window"),
    )
    rooms = ("TQ-UBND", "TQ-STTTT", "TQ-H-SONDUONG-4G")
    changed = meeting(1, previous=meeting(), endpoints=rooms, backup=switch)
    notices = {n.recipient.key: n for n in plan_assignment(changed, POLICY, [], NOW)}
    replaced, invited = notices["technician:TQ-H-SONDUONG"], notices["technician:TQ-H-SONDUONG-4G"]
    assert (replaced.kind, replaced.data["reason"]) == (
        Kind.MEETING_CANCELLED,
        "replaced_by_backup",
    )
    assert invited.kind is Kind.MEETING_CHANGED
    assert invited.calendar == Calendar("m-1.tuyen-quang@hnth-ops", "REQUEST", 1)
    for lang, word in (("vi", "dự phòng TQ-H-SONDUONG-4G"), ("en", "backup TQ-H-SONDUONG-4G")):
        told = content.render(replaced.kind, lang, render_context(replaced)).text
        assert word in " ".join(told.split())
        context = {**render_context(invited), "recipient_endpoint": "TQ-H-SONDUONG-4G"}
        assert "Kiểm tra T-1h không đạt" in content.render(invited.kind, lang, context).text
        assert "TQ-H-SONDUONG-4G" in content.sms(
            notice_document(replaced, NOW), lang, POLICY.timezone
        )


def test_cancellation_is_one_per_meeting_with_a_higher_sequence() -> None:
    notices = plan_cancellation(meeting(2), POLICY, [], "hoãn")
    assert {n.cause for n in notices} == {"cancelled:tuyen-quang:m-1"}
    assert {n.calendar.sequence for n in notices} == {3}  # type: ignore[union-attr]


def test_late_notice_escalates_to_the_duty_contact() -> None:
    late = meeting(late_notice=True)
    [escalation] = [n for n in plan_assignment(late, POLICY, [], NOW) if n.kind is Kind.ESCALATION]
    assert escalation.recipient.key == POLICY.value("escalation.late_notice") == "duty"
    assert not any(n.kind is Kind.ESCALATION for n in plan_assignment(meeting(), POLICY, [], NOW))
    past_deadline = START - timedelta(days=1)
    assert is_late(meeting(), past_deadline)


def test_timers_follow_the_policy_and_skip_times_already_past() -> None:
    plans = meeting_timers(meeting(), POLICY, NOW)
    assert {p.kind: p.due_at for p in plans} == {
        "remind_meeting": START - timedelta(days=1),
        "remind_check": START - timedelta(hours=2),
        "notice_deadline": START - timedelta(days=2),
        "ack_deadline": START - timedelta(days=1),  # notice.acknowledge_before
    }
    late = meeting_timers(meeting(), POLICY, START - timedelta(hours=3))
    assert [p.kind for p in late] == ["remind_check"]


def test_check_reminder_only_for_endpoints_not_yet_checked() -> None:
    notices = plan_check_reminder("t", meeting(), ["TQ-UBND"], POLICY)
    assert [n.recipient.key for n in notices] == [
        "technician:TQ-STTTT",
        "technician:TQ-H-SONDUONG",
    ]


def test_backoff_doubles_then_gives_up_and_5xx_is_final() -> None:
    kw = {"max_attempts": 3, "backoff": timedelta(seconds=5), "max_backoff": timedelta(seconds=8)}
    first = after_attempt(smtp_reply(451, "later"), 0, NOW, **kw)
    assert (first.status, first.next_attempt_at) == (Status.PENDING, NOW + timedelta(seconds=5))
    second = after_attempt(retry("x"), 1, NOW, **kw)
    assert second.next_attempt_at == NOW + timedelta(seconds=8)
    assert after_attempt(retry("x"), 2, NOW, **kw).status is Status.FAILED
    final = after_attempt(smtp_reply(550, "no such mailbox"), 0, NOW, **kw)
    assert (final.status, final.reason) == (Status.FAILED, "550 no such mailbox")
    assert http_reply(503).permanent is False
    assert http_reply(404).permanent is True
    assert http_reply(204).delivered


def test_ack_tokens_verify_only_unaltered() -> None:
    token = ack_token(b"k", "cause|it_department|email")
    assert verify_ack_token(b"k", token) == "cause|it_department|email"
    assert verify_ack_token(b"other", token) is None
    assert verify_ack_token(b"k", token[:-2] + "AA") is None
    assert verify_ack_token(b"k", "!!!") is None


RULE = RuleRef(rule="notice.lead_time", source="QĐ 345")
ENV = {"tenant": "tuyen-quang", "correlation_id": "m-1", "producer": "test"}


def annual_report() -> ReportDue:
    return ReportDue.create(
        **ENV,
        report_id="r-1",
        kind=ReportKind.ANNUAL_ENDPOINT_REPORT,
        endpoint="TQ-STTTT",
        period="2026",
        due_at=START,
        rule=RULE,
    )


def directory_entries() -> list[dict[str, object]]:
    """The sample province's directory as the store keeps it."""
    entries = [technicians.entry_of(e) for e in directory() if not isinstance(e, ReportDue)]
    return [{"_id": key, **fields} for key, fields in entries]


def every_kind() -> list[Notice]:
    m = meeting()
    check = CheckCompleted.create(
        **ENV,
        meeting_id="m-1",
        endpoint="TQ-STTTT",
        outcome=CheckOutcome.FAILED,
        failed_items=("audio",),
        due_at=START - timedelta(hours=1),
        on_time=True,
    )
    missed = check.model_copy(update={"outcome": CheckOutcome.MISSED, "failed_items": ()})
    report = annual_report()
    rejection = rejected("m-1", alternatives=[Window(start=START, end=START + timedelta(hours=1))])
    changed = meeting(1, previous=m, endpoints=("TQ-UBND",))
    notices = [
        *plan_assignment(meeting(late_notice=True), POLICY, [], NOW),
        *plan_assignment(changed, POLICY, [], NOW),
        *plan_cancellation(m, POLICY, [], "hoãn"),
        *plan_cancellation(m, POLICY, [], None),
        *plan_rejection(rejection, POLICY),
        *plan_rejection(rejection.model_copy(update={"alternatives": ()}), POLICY),
        *plan_meeting_reminder("t1", m, POLICY),
        *plan_check_reminder("t2", m, [], POLICY),
        *plan_check_alert(check, m, POLICY),
        *plan_check_alert(missed, None, POLICY),
        *plan_report_request(report),
        *plan_report_reminder("t3", "tuyen-quang", report_data(report)),
        *plan_report_request(minutes_due(START)),
        *plan_report_reminder("t5", "tuyen-quang", report_data(minutes_due(START))),
        *plan_deadline_escalation("t4", m, ["power_company"], POLICY),
        *plan_failure_escalation("n", "tuyen-quang", m.data(), "power_company", "550", POLICY),
        plan_access_link(access_link()),
        plan_access_link(access_link(purpose="reset")),
        *plan_inspection_notices(inspection_scheduled(START, previous=True)),
        *plan_inspection_cancellation(inspection_cancelled(START), POLICY),
        *technicians.plan_list("t6", TENANT, directory_entries(), NOW)[:1],
    ]
    assert {n.kind for n in notices} == set(Kind)
    return notices


def render_context(notice: Notice) -> dict[str, object]:
    """What the sender gives a template, for a recipient whose name needs escaping."""
    return {
        "data": dict(notice.data),
        "recipient_name": "Sở <TT&TT>",
        "recipient_endpoint": None,
        "recipient_role": notice.recipient.role,
        "it_contact": {"name": "Sở KH&CN", "person": "A", "phone": "1", "email": "a@b"},
        "ack_url": "https://hnth/ack/x",
        "rule": notice.rule.model_dump(),
        "province": "Tỉnh Tuyên Quang",
        "tz": "Asia/Ho_Chi_Minh",
    }


@pytest.mark.parametrize("lang", content.LANGUAGES)
def test_every_kind_renders_in_both_languages_with_rule_and_local_time(lang: str) -> None:
    for notice in every_kind():
        if notice.kind in PERSONAL_KINDS:
            continue  # no rule, no acknowledgement: see the access link's own tests
        rendered = content.render(notice.kind, lang, render_context(notice))
        assert rendered.subject
        assert "\n" not in rendered.subject
        assert notice.rule.rule in rendered.text
        assert content.public_source(notice.rule.source) in rendered.text
        assert "https://hnth/ack/x" in rendered.html
        assert "Sở &lt;TT&amp;TT&gt;" in rendered.html, "HTML is escaped"
        marker = "(Asia/Ho_Chi_Minh)" if lang == "en" else "(giờ Việt Nam)"
        timeless = notice.kind is Kind.MEETING_REJECTED and not notice.data["alternatives"]
        assert timeless or marker in rendered.text, notice.kind


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        content.local_time(datetime(2026, 1, 1), "vi", "Asia/Ho_Chi_Minh")


def test_the_email_carries_a_parsable_calendar_entry() -> None:
    [notice, *_] = plan_assignment(meeting(), POLICY, [], NOW)
    assert notice.calendar is not None
    body = content.ics(
        notice.calendar, notice.data, organizer="hnth@x", attendee="a@b", now=NOW, description="d"
    )
    rendered = content.Rendered("Thông báo", "nội dung", "<p>nội dung</p>")
    msg = content.email_message(
        sender="hnth@x",
        to="a@b",
        rendered=rendered,
        message_id="<1@x>",
        now=NOW,
        calendar=(notice.calendar, body),
        notice_id=notice.id,
    )
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    [part] = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST"
    cal = icalendar.Calendar.from_ical(part.get_content())
    [event] = cal.walk("VEVENT")
    assert (str(cal["METHOD"]), str(event["UID"]), int(event["SEQUENCE"])) == (
        "REQUEST",
        "m-1.tuyen-quang@hnth-ops",
        0,
    )
    assert event.decoded("DTSTART") == START


FOLDING_CASES = [
    "SUMMARY:Giao ban",
    "DESCRIPTION:" + "Kính gửi Sở KH&CN\\, đề nghị chuẩn bị điểm cầu. " * 9,
    "DESCRIPTION:" + "x" * 62 + "\\\\" + "\\," * 40,  # escapes across every fold
    "DESCRIPTION:" + "ễ" * 80,  # three octets a character
    "ATTENDEE;CN=" + "^^^n" * 30 + ":mailto:a@b",
]


@pytest.mark.parametrize("line", FOLDING_CASES)
def test_a_content_line_folds_at_75_octets_and_never_inside_a_character_or_escape(
    line: str,
) -> None:
    physical = content.folded(line.encode()).split(b"\r\n")
    assert all(len(p) <= 75 for p in physical)
    assert all(p.startswith(b" ") for p in physical[1:])
    text = [p.decode() for p in physical]  # each one whole UTF-8
    assert text[0] + "".join(t[1:] for t in text[1:]) == line
    for t in text[:-1]:  # no fold between an escape's two characters
        run = len(t) - len(t.rstrip(t[-1])) if t[-1] in "\\^" else 0
        assert run % 2 == 0, t


def icalendar_built(
    calendar: Calendar, data: dict, attendee: str | None, description: str
) -> bytes:
    """The entry as an `icalendar.Calendar` serialises it (what `content.ics` wrote
    before), folded as `content.ics` folds."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//HNTH Ops//notification//VI")
    cal.add("version", "2.0")
    cal.add("method", calendar.method)
    event = icalendar.Event()
    event.add("uid", calendar.uid)
    event.add("sequence", calendar.sequence)
    event.add("dtstamp", NOW)
    event.add("dtstart", data["start"])
    event.add("dtend", data["end"])
    event.add("summary", data["title"])
    event.add("location", f"{data['virtual_room']} · {data['dial_in']}")
    event.add("description", description)
    event.add("status", "CANCELLED" if calendar.method == "CANCEL" else "CONFIRMED")
    event.add("organizer", "mailto:hnth@x")
    if attendee:
        params = {"ROLE": "REQ-PARTICIPANT", "RSVP": "FALSE"}
        event.add("attendee", f"mailto:{attendee}", parameters=params)
    cal.add_component(event)
    lines = cal.content_lines(sorted=False)
    return b"".join(content.folded(line.encode()) + b"\r\n" for line in lines if line)


def test_every_calendar_entry_is_byte_for_byte_what_icalendar_writes() -> None:
    description = "Kính gửi Sở KH&CN, điểm cầu; phòng 2\\3, tầng 4.\n" * 12
    entries = [n for n in every_kind() if n.calendar is not None]
    assert {n.calendar.method for n in entries if n.calendar} == {"REQUEST", "CANCEL"}
    for notice in entries:
        assert notice.calendar is not None
        data = dict(notice.data)
        for attendee in ("a@b.vn", None):
            ours = content.ics(
                notice.calendar,
                data,
                organizer="hnth@x",
                attendee=attendee,
                now=NOW,
                description=description,
            )
            assert ours == icalendar_built(notice.calendar, data, attendee, description)


def test_the_calendar_entry_reads_back_as_icalendar_wrote_it() -> None:
    [notice, *_] = plan_assignment(meeting(), POLICY, [], NOW)
    assert notice.calendar is not None
    description = "Kính gửi Sở KH&CN, điểm cầu; phòng 2\\3.\n" * 20
    ours = content.ics(
        notice.calendar,
        notice.data,
        organizer="hnth@x",
        attendee="a@b",
        now=NOW,
        description=description,
    )
    [event] = icalendar.Calendar.from_ical(ours).walk("VEVENT")
    assert str(event["DESCRIPTION"]) == description
    assert str(event["SUMMARY"]) == notice.data["title"]
    assert str(event["ATTENDEE"]) == "mailto:a@b"
    assert event["ATTENDEE"].params["ROLE"] == "REQ-PARTICIPANT"
    assert event["ATTENDEE"].params["RSVP"] == "FALSE"  # only the link acknowledges
    assert event.decoded("DTEND") == notice.data["end"]


@pytest.mark.parametrize(
    "text", ["", "a", "x" * 57, "ễ" * 19, "dòng\nthứ hai\r\n", "Kính gửi Sở KH&CN. " * 200]
)
@pytest.mark.parametrize("subtype", ["plain", "html", "calendar"])
def test_a_text_part_is_byte_for_byte_what_mimetext_writes(text: str, subtype: str) -> None:
    wire = policy.compat32.clone(linesep="\r\n")
    ours = content.text_part(text.encode(), subtype).as_bytes(policy=wire)
    assert ours == MIMEText(text, subtype, "utf-8").as_bytes(policy=wire)


def test_every_kinds_email_goes_on_the_wire_as_compat32_writes_it() -> None:
    plain = policy.compat32.clone(linesep="\r\n")
    for notice in every_kind():
        document = notice_document(notice, NOW)
        for contact in ({"name": "Sở KH&CN"}, {"name": "IT", "language": "en"}):
            msg = content.email(
                document,
                contact=contact,
                address="Nguyễn Văn A <a@b.vn>",
                it_contact=None,
                policy=POLICY,
                ack_url="https://hnth/ack/x",
                sender="HNTH Ops <hnth@x>",
                now=NOW,
            )
            oracle = msg.as_bytes(policy=plain)
            assert content.wire(msg) == oracle, notice.kind
            assert content.wire(msg) == oracle, "its headers folded once, then remembered"
            # an alert or a reminder to check is acted on: it asks for no acknowledgement
            parsed = message_from_bytes(content.wire(msg), policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            text = parsed.get_body(("plain",))
            assert text is not None
            asks = "https://hnth/ack/x" in text.get_content()
            silent = content.ACTED_ON_KINDS | set(PERSONAL_KINDS)
            assert asks == (notice.kind.value not in silent), notice.kind


def test_resend_refusals_and_cause() -> None:
    from notification.domain.resends import (
        ResendRefusal,
        resend_cause,
        resend_refusal,
        valid_resend_key,
    )

    assert resend_refusal("pending", "meeting_notice", False) is ResendRefusal.STILL_PENDING
    assert resend_refusal("sent", "meeting_notice", True) is ResendRefusal.MEETING_CANCELLED
    assert resend_refusal("failed", "reminder_meeting", True) is ResendRefusal.MEETING_CANCELLED
    assert resend_refusal("sent", "meeting_cancelled", True) is None
    assert resend_refusal("failed", "meeting_notice", False) is None
    assert resend_refusal("sent", "access_link", False) is ResendRefusal.NOT_RESENDABLE
    a = resend_cause("tq", "assigned:tq:m:0|power_company|email", "k-00000001")
    assert a == resend_cause("tq", "assigned:tq:m:0|power_company|email", "k-00000001")
    assert a != resend_cause("tq", "assigned:tq:m:0|line_provider|email", "k-00000001")
    assert valid_resend_key("0123abcd-ef")
    assert not valid_resend_key("short")
    assert not valid_resend_key("has space in it")


def with_rules(base: Policy, **values: str) -> Policy:
    """The province's policy with some rules' values overridden (sources kept)."""
    rules = {
        name: rule.model_copy(update={"value": values[name]}) if name in values else rule
        for name, rule in base.rules.items()
    }
    return base.model_copy(update={"rules": rules})


def test_reminder_times_follow_a_policy_override() -> None:
    earlier = with_rules(
        POLICY, **{"reminder.before_check": "PT4H", "reminder.before_meeting": "P2D"}
    )
    plans = {p.kind: p.due_at for p in meeting_timers(meeting(), earlier, NOW)}
    assert plans["remind_check"] == START - timedelta(hours=4)
    assert plans["remind_meeting"] == START - timedelta(days=2)
    [reminder] = plan_check_reminder("t", meeting(), ["TQ-UBND", "TQ-STTTT"], earlier)
    assert reminder.rule == earlier.ref("reminder.before_check")


def minutes_due(end: datetime, policy: Policy = POLICY) -> ReportDue:
    """What scheduling sends at a meeting's end: the minutes, due `meeting_record.due_after`."""
    return ReportDue.create(
        **ENV,
        report_id="record:m-1",
        kind=ReportKind.MEETING_RECORD,
        unit="VP-UBND",
        meeting_id="m-1",
        period="2026-12-06",
        due_at=end + policy.duration("meeting_record.due_after"),
        rule=policy.ref("meeting_record.due_after"),
    )


@pytest.mark.parametrize("tenant", ["tuyen-quang", "lang-son", "thua-thien-hue"])
def test_the_minutes_are_reminded_after_the_meeting_and_before_their_due_date(
    tenant: str,
) -> None:
    policy = load_policy(REPO_ROOT / "policies", tenant)
    end = START + timedelta(hours=2)
    event = minutes_due(end, policy)  # sent at the meeting's end
    timer = report_reminder_timer(event, policy, end)
    assert timer is not None, "the reminder must not fall at the end, already past"
    assert timer.due_at == event.due_at - policy.duration("meeting_record.reminder_before")
    assert end < timer.due_at < event.due_at
    assert "seeds/" in policy.ref("meeting_record.reminder_before").source
    [request] = plan_report_request(event, meeting())
    assert (request.recipient.key, request.recipient.role) == ("unit:VP-UBND", "host_unit")
    text = content.render(request.kind, "vi", render_context(request)).text
    assert 'biên bản, tư liệu hội nghị truyền hình "Hội nghị trực tuyến giao ban tháng"' in text
    [unknown] = plan_report_request(event)  # the meeting never reached this service
    assert '"m-1"' in content.render(unknown.kind, "en", render_context(unknown)).subject


def test_a_report_request_names_its_period_and_place_and_says_where_to_hand_it_in() -> None:
    [request] = plan_report_request(annual_report())
    data = {**request.data, "endpoint_name": "Điểm cầu Sở KH&CN"}
    context = {**render_context(request), "data": data, "console_url": "https://hnth.tq.gov.vn"}
    vi = content.render(request.kind, "vi", context).text
    assert "năm 2026, điểm cầu Điểm cầu Sở KH&CN (TQ-STTTT)" in vi
    assert 'Nộp trên HNTH Ops, mục "Việc của tôi": https://hnth.tq.gov.vn/my' in vi
    assert content.period_words("2026-Q4", "vi") == "quý IV/2026"
    assert content.period_words("2026-Q4", "en") == "Q4 2026"
    assert content.period_words("2026-12-05", "vi") == "2026-12-05"  # a day: as it is
    without = content.render(request.kind, "en", render_context(request)).text
    assert "HNTH Ops" not in without.split("-- ")[0]  # no console address known: no link


def test_a_check_alert_names_the_endpoint_and_whom_to_ring() -> None:
    [alert, *_] = [n for n in every_kind() if n.kind is Kind.CHECK_ALERT]
    found = {"endpoint_name": "Điểm cầu Sở Y tế", "technician": "Lý Thị Tâm",
             "technician_phone": "0912 345 678"}  # fmt: skip
    context = {**render_context(alert), "data": {**alert.data, **found}}
    vi = content.render(alert.kind, "vi", context).text
    assert f"Điểm cầu Điểm cầu Sở Y tế ({alert.data['endpoint']})" in vi
    assert "cán bộ kỹ thuật của điểm cầu (Lý Thị Tâm, 0912 345 678)" in vi


def test_yearly_reports_keep_their_own_reminder_lead() -> None:
    timer = report_reminder_timer(annual_report(), POLICY, NOW)
    assert timer is not None
    assert timer.due_at == START - POLICY.duration("report.reminder_before")
    shorter = with_rules(POLICY, **{"meeting_record.reminder_before": "PT6H"})
    moved = report_reminder_timer(minutes_due(START), shorter, NOW)
    assert moved is not None
    assert moved.due_at == START + timedelta(days=3, hours=-6)


def test_the_rejection_names_the_meeting_and_speaks_the_readers_language() -> None:
    rejection = rejected("m-1", title="Giao ban tháng 12", message_en="The endpoint is busy")
    [notice] = plan_rejection(rejection, POLICY)
    context = render_context(notice)
    english = content.render(notice.kind, "en", context)
    vietnamese = content.render(notice.kind, "vi", context)
    assert "Giao ban tháng 12" in english.subject
    assert "Giao ban tháng 12" in vietnamese.subject
    assert "The endpoint is busy" in english.text
    assert BUSY not in english.text
    assert BUSY in vietnamese.text
    older = rejection.model_copy(update={"title": None})  # an older writer: no title
    assert plan_rejection(older, POLICY)[0].data["title"] == "m-1"


def test_a_meeting_the_it_department_did_not_approve_is_told_so_with_its_reason() -> None:
    refusal = Conflict(
        kind=ConflictKind.POLICY,
        resource="schedule.approval",
        message="Sở KH&CN không duyệt cuộc họp: trùng hội nghị của tỉnh",
        message_en="The IT department did not approve the meeting: the province meets then",
        rule=RuleRef(rule="schedule.approval", source="QĐ 345/QĐ-UBND 2017"),
    )
    rejection = rejected("m-2", title="Họp chi bộ").model_copy(update={"conflicts": (refusal,)})
    [notice] = plan_rejection(rejection, POLICY)
    vi = content.render(notice.kind, "vi", render_context(notice))
    en = content.render(notice.kind, "en", render_context(notice))
    assert vi.subject.startswith("Không được duyệt")
    assert en.subject.startswith("Not approved")
    assert "không được Sở KH&CN duyệt" in vi.text
    assert "- Sở KH&CN không duyệt cuộc họp: trùng hội nghị của tỉnh (theo QĐ 345" in vi.text
    assert "schedule.approval:" not in vi.text  # a rule is no resource
    assert "khung giờ trống" not in vi.text  # no free time was asked for
    assert "free alternative" not in en.text


# ---------------------------------------------------------------- the link to set a password

LINK = "https://console.example/set-password?token=t0ken-only-in-the-mail"


def sent_mail(notice: dict, contact: dict, address: str) -> tuple[EmailMessage, str, str]:
    """A notice's e-mail as the sender builds it and a client reads it: text and HTML parts."""
    msg = content.email(
        notice,
        contact=contact,
        address=address,
        it_contact=None,
        policy=POLICY,
        ack_url="https://hnth/ack/x",
        sender="hnth@x",
        now=NOW,
    )
    parsed = message_from_bytes(content.wire(msg), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None
    assert html is not None
    return parsed, text.get_content(), html.get_content()


def access_mail(**kw: str) -> tuple[EmailMessage, str, str]:
    """The access link's e-mail, and its text and HTML parts."""
    notice = notice_document(plan_access_link(access_link(**kw)), NOW)
    contact = own_contact(notice["kind"], notice["data"]) or {}
    return sent_mail(notice, contact, notice["data"]["email"])


def test_the_access_link_mail_is_in_vietnamese_by_default_in_local_time() -> None:
    mail, text, html = access_mail()
    assert mail["Subject"] == "HNTH: đặt mật khẩu cho tài khoản của bạn"
    assert mail["To"] == "binh.tt@tuyenquang.gov.vn"
    assert "Kính gửi Trần Thị Bình," in text
    assert "Sở KH&CN đã tạo cho bạn một tài khoản HNTH Ops (tran.thi.binh)" in text
    assert text.count(LINK) == 1
    assert f'<a href="{LINK}">' in html
    # 17:30 UTC is half past midnight the next day in Vietnam
    assert "có hiệu lực đến 00 giờ 30, ngày 02/12/2026 (giờ Việt Nam)" in text
    assert "17 giờ 30" not in text
    assert "UTC" not in text
    assert "hãy báo cho Sở KH&CN" in text


def test_the_access_link_mail_speaks_english_when_asked_and_says_why() -> None:
    mail, text, _ = access_mail(language="en", purpose="reset")
    assert mail["Subject"] == "HNTH: set the password of your account"
    assert "Dear Trần Thị Bình," in text
    assert "has reset the password of your HNTH Ops account (tran.thi.binh)" in text
    assert text.count(LINK) == 1
    assert "valid until 00:30, 02/12/2026 (Asia/Ho_Chi_Minh)" in text
    assert "If you did not expect this e-mail, do not use the link and tell the IT" in text


@pytest.mark.parametrize("lang", content.LANGUAGES)
def test_the_access_link_mail_asks_for_no_acknowledgement_and_cites_no_rule(lang: str) -> None:
    mail, text, html = access_mail(language=lang)
    assert "/ack/" not in text
    assert "/ack/" not in html
    assert "access.set_password_link" not in text
    assert "access.set_password_link" not in html
    assert str(mail["X-HNTH-Notice"]).strip().startswith("access:")
    assert not [p for p in mail.walk() if p.get_content_type() == "text/calendar"]


def test_an_access_link_is_one_notice_per_event_to_the_address_it_names() -> None:
    event = access_link()
    notice = plan_access_link(event)
    assert notice.id == f"access:{event.event_id}|account:tran.thi.binh|email"
    assert plan_access_link(event.model_copy()).id == notice.id, "a redelivery"
    assert plan_access_link(access_link()).id != notice.id, "a new link is a new mail"
    assert (notice.kind, notice.meeting_id, notice.tenant) == (Kind.ACCESS_LINK, None, TENANT)
    assert own_contact(notice.kind, notice.data) == {
        "person": "Trần Thị Bình",
        "email": "binh.tt@tuyenquang.gov.vn",
        "language": "vi",
    }
    assert own_contact(Kind.MEETING_NOTICE, notice.data) is None


def test_the_notice_names_the_host_units_official_letter_when_it_has_one() -> None:
    from datetime import date

    lettered = meeting(document_number="125/VP-HCTC", document_date=date(2026, 11, 28))
    assert (lettered.document_number, lettered.document_date) == ("125/VP-HCTC", "2026-11-28")
    [notice, *_] = plan_assignment(lettered, POLICY, [], NOW)
    vi = content.render(notice.kind, "vi", render_context(notice)).text
    assert "Theo công văn số 125/VP-HCTC ngày 28/11/2026\nThời gian: từ " in vi
    en = content.render(notice.kind, "en", render_context(notice)).text
    assert "Official letter: No. 125/VP-HCTC of 28/11/2026\nTime: " in en
    [plain, *_] = plan_assignment(meeting(), POLICY, [], NOW)
    assert "công văn" not in content.render(plain.kind, "vi", render_context(plain)).text


def mail_of(notice: Notice, address: str = "a@b") -> tuple[str, icalendar.Event]:
    """The e-mail a notice becomes: its plain text and its calendar entry."""
    parsed, text, _ = sent_mail(notice_document(notice, NOW), {"name": "Sở KH&CN"}, address)
    [part] = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    [event] = icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")
    return text, event


def test_an_endpoint_on_a_linked_bridge_is_invited_with_its_own_bridges_dial_in() -> None:
    linked_dial_in = "sip:VR-01@mcu2.tuyenquang.gov.vn"
    event = cascaded("m-1", START)
    cascade = meeting_from_slot(event, None)
    notices = {n.recipient.key: n for n in plan_assignment(cascade, POLICY, [], NOW)}

    text, entry = mail_of(notices["technician:TQ-H-SONDUONG"])
    assert f"Máy chủ: MCU-TQ-2, phòng họp ảo VR-01, địa chỉ kết nối {linked_dial_in}" in text
    assert "ghép nối với máy chủ chính MCU-TQ" in text
    assert linked_dial_in in str(entry["LOCATION"])
    assert event.slot.dial_in not in text, "not the host bridge's dial-in"
    assert "mcu.tuyenquang" not in str(entry["LOCATION"])

    text, entry = mail_of(notices["technician:TQ-UBND"])
    assert event.slot.dial_in in str(entry["LOCATION"])
    assert linked_dial_in not in text
    assert "Máy chủ: MCU-TQ," in text

    for role in ("it_department", "line_provider"):
        text, entry = mail_of(notices[role])
        assert "Hội nghị được ghép nối (cascade) qua 2 máy chủ:" in text
        assert (
            "- MCU-TQ (máy chủ chính, có điểm cầu chính): 2 điểm cầu, 3 cổng, "
            f"địa chỉ kết nối {event.slot.dial_in}; các điểm cầu: TQ-UBND, TQ-STTTT"
        ) in text
        assert (
            "- MCU-TQ-2 (ghép nối với MCU-TQ): 1 điểm cầu, 2 cổng, "
            f"địa chỉ kết nối {linked_dial_in}; các điểm cầu: TQ-H-SONDUONG"
        ) in text
        assert event.slot.dial_in in str(entry["LOCATION"])
    english = content.render(
        Kind.MEETING_NOTICE, "en", render_context(notices["it_department"])
    ).text
    assert "- MCU-TQ-2 (linked to MCU-TQ): 1 endpoints, 2 ports" in english

    # reminders and a cancellation say the same per bridge
    [check] = plan_check_reminder("t", cascade, ["TQ-UBND", "TQ-STTTT"], POLICY)
    assert check.data["dial_in"] == linked_dial_in
    day_before = {n.recipient.key: n for n in plan_meeting_reminder("t", cascade, POLICY)}
    assert day_before["technician:TQ-H-SONDUONG"].data["dial_in"] == linked_dial_in
    off = {n.recipient.key: n for n in plan_cancellation(cascade, POLICY, [], "x")}
    assert off["technician:TQ-H-SONDUONG"].data["bridge"] == "MCU-TQ-2"
    assert len(off["it_department"].data["cascade"]) == 2


def test_a_meeting_on_one_bridge_lists_no_cascade() -> None:
    notices = {n.recipient.key: n for n in plan_assignment(meeting(), POLICY, [], NOW)}
    for key in ("it_department", "technician:TQ-H-SONDUONG"):
        text, _ = mail_of(notices[key])
        assert "cascade" not in text
        assert "ghép nối" not in text


def test_an_inspection_plan_goes_to_its_technicians_and_the_line_provider() -> None:
    notices = plan_inspection_notices(inspection_scheduled(START))

    assert [(n.kind, n.recipient.key) for n in notices] == [
        (Kind.INSPECTION_PLANNED, "technician:TQ-STTTT"),
        (Kind.INSPECTION_PLANNED, "technician:TQ-UBND"),
        (Kind.INSPECTION_PLANNED, "line_provider"),
    ]
    assert plan_inspection_notices(inspection_scheduled(START)) == notices  # same ids again
    text = content.render(notices[-1].kind, "vi", render_context(notices[-1])).text
    assert "Đơn vị cung cấp đường truyền: cùng tham gia" in text


def test_a_changed_inspection_tells_whoever_it_leaves_out_that_it_is_off() -> None:
    notices = plan_inspection_notices(inspection_scheduled(START, previous=True))

    assert [(n.kind, n.recipient.key) for n in notices] == [
        (Kind.INSPECTION_PLANNED, "technician:TQ-STTTT"),
        (Kind.INSPECTION_CANCELLED, "technician:TQ-UBND"),
        (Kind.INSPECTION_CANCELLED, "line_provider"),
    ]
    assert notices[0].data["changed"] is True


def test_a_cancelled_inspection_tells_every_party_of_its_plan_with_the_reason() -> None:
    notices = plan_inspection_cancellation(inspection_cancelled(START), POLICY)

    assert {n.recipient.key for n in notices} == {
        "technician:TQ-STTTT",
        "technician:TQ-UBND",
        "line_provider",
    }
    text = content.render(notices[0].kind, "en", render_context(notices[0])).text
    assert "Reason: Phòng họp đang sửa" in text
    unplanned = inspection_cancelled(START).model_copy(update={"plan": None})
    assert plan_inspection_cancellation(unplanned, POLICY) == []


@pytest.mark.parametrize(
    "at",
    [
        START,
        datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),
        datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),
    ],
)
def test_a_calendar_time_is_written_as_icalendar_writes_it(at: datetime) -> None:
    assert content._utc(at) == vDDDTypes(at.astimezone(UTC)).to_ical()


def test_a_deadline_at_local_midnight_reads_as_the_end_of_the_day_before() -> None:
    midnight = datetime(2026, 12, 15, 17, 0, tzinfo=UTC)  # 00:00 on 16/12 in Vietnam
    tz = "Asia/Ho_Chi_Minh"
    assert content.local_deadline(midnight, "vi", tz) == "ngày 15/12/2026"
    assert content.local_deadline(midnight, "en", tz) == "15/12/2026 (end of day)"
    morning = midnight + timedelta(hours=8)
    assert content.local_deadline(morning, "vi", tz) == content.local_time(morning, "vi", tz)


def test_a_later_step_of_the_meeting_replaces_a_recipients_earlier_notices() -> None:
    from notification.domain.replacements import replaced_by

    def notice(cause: str, kind: str, recipient: str = "line_provider", **more: str) -> dict:
        key = f"{cause}|{recipient}|email"
        return {"_id": more.get("_id", key), "cause": cause, "kind": kind,
                "recipient": recipient, "channel": "email", **more}  # fmt: skip

    first = notice("assigned:tq:m:0", "meeting_notice")
    again = notice("resend:tq:ab:k1", "meeting_notice", resend_of=first["_id"], _id="r|1")
    change = notice("assigned:tq:m:1", "meeting_changed")
    reminder = notice("timer:tq:m:remind", "reminder_meeting")
    technician = notice("assigned:tq:m:0", "meeting_notice", "technician:TQ-A")
    assert replaced_by([first, again, change, reminder, technician]) == {
        first["_id"]: change["_id"],
        "r|1": change["_id"],  # a resend stands where the notice it repeats stands
    }
    cancel = notice("cancelled:tq:m", "meeting_cancelled")
    assert replaced_by([first, change, cancel])[change["_id"]] == cancel["_id"]
    # displaced at revision 1, then placed again by a change at revision 2
    displaced = notice("preempted:tq:m:1", "meeting_cancelled")
    placed = notice("assigned:tq:m:2", "meeting_changed")
    assert replaced_by([change, displaced])[change["_id"]] == displaced["_id"]
    assert replaced_by([change, displaced, placed])[displaced["_id"]] == placed["_id"]


def test_a_meetings_notice_names_its_places_and_their_technicians() -> None:
    """A power company acts on places, not codes: the host unit and each endpoint by name
    with the code beside it, where the room is and who its technician is; a code the
    directory does not know yet stays a code."""
    lettered = meeting(endpoints=("TQ-UBND", "TQ-STTTT"))
    [notice, *_] = plan_assignment(lettered, POLICY, [], NOW)
    technician = {"name": "Sở KH&CN", "person": "Lý Thị Tâm", "phone": "0912 345 678"}
    room = {"name": "Điểm cầu UBND tỉnh", "location": "Hội trường tầng 2", "contact": technician}
    data = {**notice.data, **content.places(notice.data, {"name": "Văn phòng UBND"}, [room, None])}
    vi = content.render(notice.kind, "vi", {**render_context(notice), "data": data}).text
    assert "Đơn vị chủ trì: Văn phòng UBND (VP-UBND)" in vi
    assert "Điểm cầu chính: Điểm cầu UBND tỉnh (TQ-UBND)" in vi
    assert (
        "Các điểm cầu (2):\n"
        "- Điểm cầu UBND tỉnh (TQ-UBND), Hội trường tầng 2; kỹ thuật: Lý Thị Tâm, 0912 345 678\n"
        "- TQ-STTTT\n"
    ) in vi
    en = content.render(notice.kind, "en", {**render_context(notice), "data": data}).text
    assert "- Điểm cầu UBND tỉnh (TQ-UBND), Hội trường tầng 2; technician: Lý Thị Tâm" in en
    assert "QĐ 345/QĐ-UBND 2017" in vi  # the rule's source, as a letter quotes it
    assert "(seeds/" not in vi  # without the project's own file references


def test_a_change_notice_says_what_changed_and_greets_an_added_endpoint_as_new() -> None:
    first = meeting()
    moved = meeting_from_slot(
        assigned(
            "m-1", START + timedelta(days=1), revision=1, endpoints=("TQ-UBND", "TQ-STTTT", "TQ-X")
        ),
        first,
    )
    notices = {n.recipient.key: n for n in plan_assignment(moved, POLICY, [], NOW)}
    power = notices["power_company"]
    vi = content.render(power.kind, "vi", render_context(power)).text
    assert "Thời gian cũ: từ 08 giờ 00, ngày 06/12/2026" in vi
    assert "; nay: từ 08 giờ 00, ngày 07/12/2026" in vi
    assert "Điểm cầu bổ sung: TQ-X." in vi
    assert "Điểm cầu không còn tham gia: TQ-H-SONDUONG." in vi
    assert "thay thế các thông báo trước" in vi
    # and asks again what the notice it replaces asked, as the meeting now stands
    power_ask = "Đề nghị bảo đảm cấp điện ổn định tại các điểm cầu dưới đây từ 07 giờ 00"
    assert power_ask in vi
    added = notices["technician:TQ-X"]
    context = {**render_context(added), "recipient_endpoint": "TQ-X"}
    en = content.render(added.kind, "en", context).text
    assert "Your endpoint TQ-X has been added to the video conference below" in en
    assert "replaces the earlier ones" not in en  # it was never told of the meeting
    assert "Time before" not in en  # nor of the time before
    assert "finish its line, audio and video checks by" in en
    # the endpoint taken out hears it no longer takes part, at the time it was told
    dropped = notices["technician:TQ-H-SONDUONG"]
    said = content.render(dropped.kind, "vi", render_context(dropped))
    assert said.subject.startswith("Điểm cầu không còn tham gia: ")
    assert "ngày 06/12/2026" in said.subject
    assert "Hội nghị vẫn diễn ra với các điểm cầu khác" in said.text
    # a title-only change says so, and the subject does not say the time moved
    renamed_event = assigned("m-1", START, revision=1).model_copy(update={"title": "Giao ban quý"})
    renamed = meeting_from_slot(renamed_event, first)
    [notice, *_] = plan_assignment(renamed, POLICY, [], NOW)
    said = content.render(notice.kind, "vi", render_context(notice))
    assert 'Tên cũ: "Hội nghị trực tuyến giao ban tháng"; nay: "Giao ban quý".' in said.text
    assert "nay vào" not in said.subject
    # a replay of the revision plans the same notice (what changed is kept with it)
    assert meeting_from_slot(assigned("m-1", moved.start, revision=1), moved).was == moved.was
    # why it changed, in the words of whoever changed it, to every party
    why = "Lãnh đạo tỉnh bận đột xuất"
    explained_event = assigned("m-1", START + timedelta(days=1), revision=1).model_copy(
        update={"change_reason": why}
    )
    explained = meeting_from_slot(explained_event, first)
    told = {
        n.recipient.key: content.render(n.kind, "vi", render_context(n)).text
        for n in plan_assignment(explained, POLICY, [], NOW)
        if n.kind.value in ("meeting_changed", "meeting_cancelled")
    }
    assert {"power_company", "technician:TQ-H-SONDUONG"} <= set(told)  # the dropped one too
    assert all(f"Lý do thay đổi: {why}" in text for text in told.values())


def test_a_request_refused_then_changed_and_placed_is_announced_as_new() -> None:
    """Nobody heard of a refused request: when its change is placed (revision 1), every
    party gets the invitation, not a change of something they were never told."""
    placed = meeting_from_slot(
        assigned("m-1", START, revision=1).model_copy(update={"change_reason": "Trùng lịch"}),
        None,
    )
    kinds = {n.kind.value for n in plan_assignment(placed, POLICY, [], NOW)}
    assert "meeting_changed" not in kinds
    assert "meeting_notice" in kinds


def test_a_notice_comes_from_the_province_and_asks_each_party_its_part() -> None:
    notices = {n.recipient.key: n for n in plan_assignment(meeting(), POLICY, [], NOW)}
    msg = content.email(
        notice_document(notices["power_company"], NOW),
        contact={"name": "Điện lực"},
        address="dieuhanh@pc.vn",
        it_contact={"name": "Sở KH&CN", "person": None, "phone": None, "email": "it@tq.gov.vn"},
        policy=POLICY,
        ack_url="https://hnth/ack/x",
        sender="hnth@x",
        now=NOW,
    )
    parsed = message_from_bytes(content.wire(msg), policy=policy.default)
    assert parsed["From"] == "HNTH Ops · Tỉnh Tuyên Quang <hnth@x>"
    assert parsed["Reply-To"] == "it@tq.gov.vn"
    text = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Đề nghị bảo đảm cấp điện ổn định tại các điểm cầu dưới đây từ 07 giờ 00" in text
    assert "Nút Chấp nhận trong ứng dụng lịch không thay cho xác nhận này" in text
    [part] = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    [event] = icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")
    assert str(event["ORGANIZER"]) == "mailto:it@tq.gov.vn"  # an answer reaches a person
    text, _ = mail_of(notices["technician:TQ-UBND"])
    assert "hoàn tất kiểm tra đường truyền, âm thanh, hình ảnh trước 07 giờ 00" in text


def test_the_acknowledgement_page_of_a_cancellation_says_why() -> None:
    from notification.http.acks import _ack_page

    [cancel, *_] = plan_cancellation(meeting(), POLICY, [], "Lãnh đạo <đi> công tác")
    page = _ack_page(notice_document(cancel, NOW), POLICY.timezone)
    assert "Lý do: Lãnh đạo &lt;đi&gt; công tác" in page  # escaped
    removed = {**cancel.data, "reason": "endpoint_removed"}
    dropped = {**notice_document(cancel, NOW), "data": removed}
    assert "Lý do" not in _ack_page(dropped, POLICY.timezone)  # a code, not a reason


def test_a_refusal_lists_the_free_times_in_the_order_of_the_day() -> None:
    later, earlier = (Window(start=START + timedelta(hours=h), end=START + timedelta(hours=h + 1))
                      for h in (3, -2))  # fmt: skip
    [notice, *_] = plan_rejection(rejected("m-1", alternatives=[later, earlier]), POLICY)
    text = content.render(notice.kind, "vi", render_context(notice)).text
    assert text.index("06 giờ 00, ngày 06/12/2026") < text.index("11 giờ 00, ngày 06/12/2026")
