"""Time-driven notices on a ManualClock and the kit's durable timers, with two replicas:
reminders, check alerts, escalations and report reminders fire at their time, once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from notification_samples import ADDRESSES, TENANT, assigned, directory

from hnth_contracts import (
    CheckCompleted,
    CheckOutcome,
    ReportDue,
    ReportKind,
    ReportSubmitted,
    RuleRef,
)
from hnth_kit.clock import ManualClock
from hnth_kit.testing import eventually

pytestmark = pytest.mark.integration
T0 = datetime.now(UTC).replace(microsecond=0)
ENV = {"tenant": TENANT, "producer": "test"}


def sent(kind: str, count: int):
    def check(notices: list) -> bool:
        of_kind = [n for n in notices if n["kind"] == kind]
        return len(of_kind) == count and all(n["status"] == "sent" for n in of_kind)

    return check


async def settle(h, clock: ManualClock) -> None:
    """Every timer due by the clock has fired and every notice is out of `pending`."""
    await eventually(
        lambda: h.db["timers"].count_documents(
            {"state": "pending", "due_at": {"$lte": clock.now()}}
        ),
        until=lambda n: n == 0,
    )
    await eventually(
        lambda: h.db["notices"].count_documents({"status": "pending"}), until=lambda n: n == 0
    )


def check(meeting_id: str, endpoint: str, outcome: CheckOutcome, start: datetime) -> CheckCompleted:
    return CheckCompleted.create(
        **ENV,
        correlation_id=meeting_id,
        meeting_id=meeting_id,
        endpoint=endpoint,
        outcome=outcome,
        failed_items=("audio",) if outcome is CheckOutcome.FAILED else (),
        due_at=start - timedelta(hours=1),
        on_time=True,
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

    clock.set(start - timedelta(days=1, minutes=-1))  # T-1 day (reminder.before_meeting)
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

    clock.set(start - timedelta(hours=2, minutes=-1))  # T-2h (reminder.before_check)
    notices = await eventually(lambda: h.notices("m-7"), until=sent("reminder_check", 1))
    assert [n["recipient"] for n in notices if n["kind"] == "reminder_check"] == [
        "technician:TQ-H-SONDUONG"
    ], "only the endpoint with no check result yet (the failed one was alerted)"

    clock.set(start + timedelta(hours=3))
    await settle(h, clock)
    kinds = Counter(n["kind"] for n in await h.notices("m-7"))
    assert kinds == {
        "meeting_notice": 7,
        "reminder_meeting": 7,
        "check_alert": 2,
        "reminder_check": 1,
    }
    assert len(smtp.inbox.messages) == 17
    assert await h.db["timer_fired"].count_documents({}) == 3


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
    await h.publish(
        ReportSubmitted.create(
            **ENV,
            correlation_id="r-2",
            report_id="r-2",
            kind=ReportKind.ANNUAL_ENDPOINT_REPORT,
            endpoint="TQ-UBND",
            submitted_by="kt",
            submitted_at=T0,
        )
    )
    await eventually(lambda: h.db["reports_submitted"].count_documents({}), until=lambda n: n == 1)

    clock.set(start - timedelta(days=2, minutes=-1))  # the notice deadline of m-9
    notices = await eventually(lambda: h.notices("m-9"), until=sent("escalation", 1))
    [escalation] = [n for n in notices if n["kind"] == "escalation"]
    assert escalation["cause"].startswith("notice_deadline:")
    assert (
        "technician:TQ-H-SONDUONG"
        in smtp.inbox.to(ADDRESSES["duty"])[-1].get_body(("plain",)).get_content()
    )

    clock.set(due - timedelta(days=3, minutes=-1))  # report.reminder_before
    reminders = await eventually(h.all_notices, until=sent("report_reminder", 1))
    [reminder] = [n for n in reminders if n["kind"] == "report_reminder"]
    assert reminder["recipient"] == "technician:TQ-STTTT"

    clock.set(due + timedelta(days=1))
    await eventually(
        lambda: h.db["timers"].count_documents({"state": "pending"}), until=lambda n: n == 0
    )
    kinds = Counter(n["kind"] for n in await h.all_notices())
    assert kinds["escalation"] == 2
    assert kinds["report_reminder"] == 1
    assert len(smtp.inbox.to(ADDRESSES["duty"])) == 2
