"""Time-driven notices on a ManualClock and the kit's durable timers, with two replicas:
reminders, check alerts, escalations and report reminders fire at their time, once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from notification_samples import ADDRESSES, TENANT, assigned, cancelled, directory, submitted

from hnth_contracts import (
    CheckCompleted,
    CheckOutcome,
    ReportDue,
    ReportKind,
    RuleRef,
)
from hnth_kit.clock import ManualClock
from hnth_kit.testing import eventually
from hnth_kit.timers import FIRED, QUEUE

pytestmark = pytest.mark.integration
T0 = datetime.now(UTC).replace(microsecond=0)
ENV = {"tenant": TENANT, "producer": "test"}


def sent(kind: str, count: int):
    def check(notices: list) -> bool:
        of_kind = [n for n in notices if n["kind"] == kind]
        return len(of_kind) == count and all(n["status"] == "sent" for n in of_kind)

    return check


async def first_attempts_done(h) -> None:
    """Every notice has been tried at least once, so no first delivery is under way. Call it
    before moving the clock far: a jump past a sender's lease (taken on the test clock) would
    let the other replica take over a send in progress and mail it twice."""
    await eventually(
        h.all_notices,
        until=lambda ns: not any(n["status"] == "pending" and n["attempts"] == 0 for n in ns),
    )


async def settle_timers(h, clock: ManualClock) -> None:
    """Every timer due by the clock has fired and what it caused has been tried (notices
    may still wait for an address)."""
    await eventually(
        lambda: h.db[QUEUE].count_documents({"due_at": {"$lte": clock.now()}}),
        until=lambda n: n == 0,
    )
    await first_attempts_done(h)


async def settle(h, clock: ManualClock) -> None:
    """Every timer due by the clock has fired and every notice is out of `pending`."""
    await settle_timers(h, clock)
    await eventually(h.all_notices, until=lambda ns: not any(n["status"] == "pending" for n in ns))


async def holds_off(
    h, clock: ManualClock, due: datetime, timer_id: str, kind: str, meeting_id: str | None = None
) -> None:
    """A minute before `due`, a timer pass at that time leaves the timer pending and no
    notice of `kind` (of `meeting_id`, when given) exists yet."""
    await first_attempts_done(h)
    clock.set(due - timedelta(minutes=1))
    await h.fire_timers()
    assert await h.db[QUEUE].find_one({"timer": timer_id}) is not None, f"{timer_id} not pending"
    notices = await (h.notices(meeting_id) if meeting_id else h.all_notices())
    assert not [n for n in notices if n["kind"] == kind], kind


def check(meeting_id: str, endpoint: str, outcome: CheckOutcome, start: datetime) -> CheckCompleted:
    return CheckCompleted.create(
        **ENV,
        correlation_id=meeting_id,
        meeting_id=meeting_id,
        endpoint=endpoint,
        outcome=outcome,
        failed_items=("audio",) if outcome is CheckOutcome.FAILED else (),
        due_at=start - timedelta(hours=1),
        on_time=outcome is not CheckOutcome.MISSED,
    )


async def test_reminders_and_check_alerts_fire_at_their_time_and_never_twice(
    notification, smtp
) -> None:
    clock = ManualClock(T0)
    h = await notification(replicas=2, clock=clock, smtp_port=smtp.port)
    await h.publish_directory(directory())
    start = T0 + timedelta(days=3)
    await h.publish(assigned("m-7", start))
    await eventually(lambda: h.notices("m-7"), until=sent("meeting_notice", 7))

    day_before = start - timedelta(days=1)  # reminder.before_meeting
    await holds_off(h, clock, day_before, f"remind_meeting:{TENANT}:m-7:0", "reminder_meeting")
    clock.set(day_before + timedelta(minutes=1))
    await eventually(lambda: h.notices("m-7"), until=sent("reminder_meeting", 7))

    await h.publish(
        check("m-7", "TQ-UBND", CheckOutcome.PASSED, start),
        check("m-7", "TQ-STTTT", CheckOutcome.FAILED, start),
    )
    alerts = await eventually(lambda: h.notices("m-7"), until=sent("check_alert", 2))
    assert sorted(n["recipient"] for n in alerts if n["kind"] == "check_alert") == [
        "it_department",
        "unit:VP-UBND",
    ]
    [alert] = smtp.inbox.to(ADDRESSES["it_department"])[-1:]
    assert "TQ-STTTT" in alert["Subject"]
    await eventually(lambda: h.db["checks"].count_documents({}), until=lambda n: n == 2)

    two_hours_before = start - timedelta(hours=2)  # reminder.before_check
    await holds_off(h, clock, two_hours_before, f"remind_check:{TENANT}:m-7:0", "reminder_check")
    clock.set(two_hours_before + timedelta(minutes=1))
    notices = await eventually(lambda: h.notices("m-7"), until=sent("reminder_check", 1))
    assert [n["recipient"] for n in notices if n["kind"] == "reminder_check"] == [
        "technician:TQ-H-SONDUONG"
    ], "only the endpoint with no check result yet (the failed one was alerted)"

    # T-1h: inspection finds TQ-H-SONDUONG never checked; both parties hear which endpoint
    clock.set(start - timedelta(hours=1))
    await h.publish(check("m-7", "TQ-H-SONDUONG", CheckOutcome.MISSED, start))
    notices = await eventually(lambda: h.notices("m-7"), until=sent("check_alert", 4))
    missed = [n for n in notices if n["kind"] == "check_alert" and n["data"]["outcome"] == "missed"]
    assert sorted(n["recipient"] for n in missed) == ["it_department", "unit:VP-UBND"]
    for address in (ADDRESSES["it_department"], ADDRESSES["unit:VP-UBND"]):
        [message] = [m for m in smtp.inbox.to(address) if "TQ-H-SONDUONG" in m["Subject"]]
        assert "chưa kiểm tra đúng hạn" in message["Subject"]
        assert "Điểm cầu TQ-H-SONDUONG" in message.get_body(("plain",)).get_content()

    clock.set(start + timedelta(hours=3))
    await settle(h, clock)
    kinds = Counter(n["kind"] for n in await h.notices("m-7"))
    assert kinds == {
        "meeting_notice": 7,
        "reminder_meeting": 7,
        "check_alert": 4,
        "reminder_check": 1,
        "escalation": 1,  # a day ahead nobody had acknowledged the notice
    }
    assert len(smtp.inbox.messages) == 20
    assert await h.db["timer_fired"].count_documents({}) == 4


async def test_late_and_undelivered_notices_escalate_once_and_reports_are_reminded(
    notification, smtp
) -> None:
    clock = ManualClock(T0)
    h = await notification(replicas=2, clock=clock, smtp_port=smtp.port, delivery_max_attempts=1000)
    await h.publish_directory(directory(skip=["TQ-H-SONDUONG"]))
    # accepted inside the notice lead time: escalated at once
    await h.publish(assigned("m-8", T0 + timedelta(days=1), late_notice=True))
    # on time, but one technician has no address: escalated at the notice deadline
    start = T0 + timedelta(days=4)
    await h.publish(assigned("m-9", start, endpoints=("TQ-UBND", "TQ-H-SONDUONG")))
    late = await eventually(lambda: h.notices("m-8"), until=sent("escalation", 1))
    assert [n["recipient"] for n in late if n["kind"] == "escalation"] == ["duty"]
    [first] = smtp.inbox.to(ADDRESSES["duty"])
    assert "gửi muộn" in first["Subject"]

    rule = RuleRef(rule="report.annual.due", source="seeds/001")
    due = T0 + timedelta(days=10)
    report = {**ENV, "kind": ReportKind.ANNUAL_ENDPOINT_REPORT, "period": "2026", "rule": rule}
    await h.publish(
        ReportDue.create(
            **report, correlation_id="r-1", report_id="r-1", endpoint="TQ-STTTT", due_at=due
        ),
        ReportDue.create(
            **report, correlation_id="r-2", report_id="r-2", endpoint="TQ-UBND", due_at=due
        ),
    )
    await eventually(h.all_notices, until=lambda ns: sent("report_request", 2)(ns))
    await h.publish(submitted("r-2", ReportKind.ANNUAL_ENDPOINT_REPORT, T0, endpoint="TQ-UBND"))
    await eventually(lambda: h.db["reports_submitted"].count_documents({}), until=lambda n: n == 1)

    deadline = start - timedelta(days=2)  # the notice deadline of m-9
    await holds_off(h, clock, deadline, f"notice_deadline:{TENANT}:m-9:0", "escalation", "m-9")
    clock.set(deadline + timedelta(minutes=1))
    notices = await eventually(lambda: h.notices("m-9"), until=sent("escalation", 1))
    [escalation] = [n for n in notices if n["kind"] == "escalation"]
    assert escalation["cause"].startswith("notice_deadline:")
    assert (
        "kỹ thuật TQ-H-SONDUONG"  # the party in words, not its key
        in smtp.inbox.to(ADDRESSES["duty"])[-1].get_body(("plain",)).get_content()
    )

    remind_at = due - timedelta(days=3)  # report.reminder_before
    await holds_off(h, clock, remind_at, f"remind_report:{TENANT}:r-1", "report_reminder")
    clock.set(remind_at + timedelta(minutes=1))
    reminders = await eventually(h.all_notices, until=sent("report_reminder", 1))
    [reminder] = [n for n in reminders if n["kind"] == "report_reminder"]
    assert reminder["recipient"] == "technician:TQ-STTTT"

    clock.set(due + timedelta(days=1))
    await eventually(lambda: h.db[QUEUE].count_documents({}), until=lambda n: n == 0)
    kinds = Counter(n["kind"] for n in await h.all_notices())
    # a day before m-9 (notice.acknowledge_before) nobody had acknowledged its notice: the
    # duty officer is given the parties to ring, once
    assert kinds["escalation"] == 3
    assert kinds["report_reminder"] == 1
    duty = smtp.inbox.to(ADDRESSES["duty"])
    assert len(duty) == 3
    assert "chưa được xác nhận" in duty[-1]["Subject"]
    assert "Điện lực" in duty[-1].get_body(("plain",)).get_content()


def minutes_due(meeting_id: str, end: datetime, policy) -> ReportDue:
    """Scheduling's ReportDue at a meeting's end: the host unit's minutes (rule 8)."""
    return ReportDue.create(
        **ENV,
        correlation_id=meeting_id,
        report_id=f"meeting_record:{meeting_id}",
        kind=ReportKind.MEETING_RECORD,
        unit="VP-UBND",
        meeting_id=meeting_id,
        period=end.date().isoformat(),
        due_at=end + policy.duration("meeting_record.due_after"),
        rule=policy.ref("meeting_record.due_after"),
    )


async def test_the_minutes_are_requested_from_the_host_unit_and_reminded_unless_handed_in(
    notification, smtp
) -> None:
    clock = ManualClock(T0)
    h = await notification(clock=clock, smtp_port=smtp.port)
    await h.publish_directory(directory())
    policy = h.service.policy_for(TENANT)
    end = T0  # scheduling sends the ReportDue when the meeting ends
    await h.publish(minutes_due("m-20", end, policy), minutes_due("m-21", end, policy))
    requests = await eventually(h.all_notices, until=sent("report_request", 2))
    assert {(n["recipient"], n["role"]) for n in requests} == {("unit:VP-UBND", "host_unit")}
    host = ADDRESSES["unit:VP-UBND"]
    assert len(smtp.inbox.to(host)) == 2
    assert all("biên bản" in m["Subject"] for m in smtp.inbox.to(host))

    # m-21's minutes are uploaded (registration says so): no reminder for them
    at = T0 + timedelta(hours=5)
    record = ReportKind.MEETING_RECORD
    await h.publish(submitted("meeting_record:m-21", record, at, unit="VP-UBND", meeting_id="m-21"))
    await eventually(lambda: h.db["reports_submitted"].count_documents({}), until=lambda n: n == 1)

    due = end + policy.duration("meeting_record.due_after")
    remind_at = due - policy.duration("meeting_record.reminder_before")
    assert end < remind_at < due
    timer = f"remind_report:{TENANT}:meeting_record:m-20"
    await holds_off(h, clock, remind_at, timer, "report_reminder")
    clock.set(remind_at)
    reminders = await eventually(h.all_notices, until=sent("report_reminder", 1))
    [reminder] = [n for n in reminders if n["kind"] == "report_reminder"]
    assert (reminder["meeting_id"], reminder["recipient"]) == ("m-20", "unit:VP-UBND")
    [message] = smtp.inbox.to(host)[2:]
    assert message["Subject"].startswith("Nhắc hạn")

    clock.set(due + timedelta(days=1))
    await settle(h, clock)
    kinds = Counter(n["kind"] for n in await h.all_notices())
    assert kinds == {"report_request": 2, "report_reminder": 1}
    assert len(smtp.inbox.to(host)) == 3
    assert await h.db["timer_fired"].count_documents({}) == 2, "m-21's timer fired, said nothing"


async def test_a_moved_or_cancelled_meetings_old_timers_fire_and_say_nothing(
    notification, smtp
) -> None:
    """`timer_is_current`: the T-1 day / T-2h reminders, the notice-deadline and the
    acknowledgement escalations planned for revision 0 fire at their old times and add
    nothing once the meeting moved (revision 1) or was cancelled; the moved one's timers
    act at the new times, once."""
    clock = ManualClock(T0)
    # TQ-H-SONDUONG has no address: its notice stays undelivered, so a deadline check
    # that ran for real would escalate (the old ones must not)
    h = await notification(replicas=2, clock=clock, smtp_port=smtp.port, delivery_max_attempts=1000)
    await h.publish_directory(directory(skip=["TQ-H-SONDUONG"]))
    old, new = T0 + timedelta(days=3), T0 + timedelta(days=6)
    await h.publish(
        assigned("m-30", old), assigned("m-31", old, endpoints=("TQ-UBND", "TQ-H-SONDUONG"))
    )
    timers = h.db[QUEUE]  # the pending ones
    await eventually(lambda: timers.count_documents({}), until=lambda n: n == 8)
    await h.publish(assigned("m-30", new, revision=1), cancelled("m-31"))
    await eventually(lambda: timers.count_documents({}), until=lambda n: n == 12)
    await eventually(
        lambda: h.notices("m-31"),
        until=lambda ns: any(n["kind"] == "meeting_cancelled" for n in ns),
    )

    stale = [
        f"{kind}:{TENANT}:{meeting}:0"
        for meeting in ("m-30", "m-31")
        for kind in ("notice_deadline", "remind_meeting", "remind_check", "ack_deadline")
    ]
    # rev 0's times: the notice deadline (T-2 days), T-1 day, T-2h
    await first_attempts_done(h)
    for due in (old - timedelta(days=2), old - timedelta(days=1), old - timedelta(hours=2)):
        clock.set(due + timedelta(minutes=1))
        await settle_timers(h, clock)
    # every old timer came due and was taken (fired), by one replica each
    await eventually(
        lambda: h.db[FIRED].count_documents({"_id": {"$in": stale}}),
        until=lambda n: n == len(stale),
    )
    assert await h.db["timer_fired"].count_documents({}) == len(stale)
    quiet = {"meeting_notice", "meeting_changed", "meeting_cancelled"}
    for meeting in ("m-30", "m-31"):
        kinds = {n["kind"] for n in await h.notices(meeting)}
        assert kinds <= quiet, (meeting, kinds)

    # rev 1's times: each timer holds off until its time, then acts once
    current = f"{TENANT}:m-30:1"
    deadline = new - timedelta(days=2)
    await holds_off(h, clock, deadline, f"notice_deadline:{current}", "escalation", "m-30")
    clock.set(deadline + timedelta(minutes=1))
    await eventually(lambda: h.notices("m-30"), until=of_kind("escalation", 1))
    day_before = new - timedelta(days=1)
    await holds_off(h, clock, day_before, f"remind_meeting:{current}", "reminder_meeting")
    clock.set(day_before + timedelta(minutes=1))
    await eventually(lambda: h.notices("m-30"), until=of_kind("reminder_meeting", 7))
    two_hours_before = new - timedelta(hours=2)
    await holds_off(h, clock, two_hours_before, f"remind_check:{current}", "reminder_check")
    clock.set(two_hours_before + timedelta(minutes=1))
    await eventually(lambda: h.notices("m-30"), until=of_kind("reminder_check", 3))

    await first_attempts_done(h)
    clock.set(new + timedelta(hours=3))
    await settle_timers(h, clock)
    notices = await h.notices("m-30")
    assert Counter(n["kind"] for n in notices) == {
        "meeting_notice": 7,
        "meeting_changed": 7,
        "escalation": 2,  # undelivered at the notice deadline; unacknowledged a day ahead
        "reminder_meeting": 7,
        "reminder_check": 3,
    }
    timed = [
        n for n in notices if n["kind"] in {"escalation", "reminder_meeting", "reminder_check"}
    ]
    assert {n["cause"].split("|")[0] for n in timed} == {
        f"{kind}:{current}"
        for kind in ("notice_deadline", "remind_meeting", "remind_check", "ack_deadline")
    }, "only rev 1's timers spoke"
    assert {n["kind"] for n in await h.notices("m-31")} == {"meeting_notice", "meeting_cancelled"}
    assert await h.db["timer_fired"].count_documents({}) == 12


def of_kind(kind: str, count: int):
    def check(notices: list) -> bool:
        return len([n for n in notices if n["kind"] == kind]) == count

    return check
