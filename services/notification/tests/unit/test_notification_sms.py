"""SMS in the last hour: which notices also go by SMS and to whom (`notice.sms`), what the
text says (short, plain, local time, both languages), and phone numbers in E.164."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from notification_memory import MemoryStore, MemoryTimers
from notification_samples import assigned, directory, missed_check

from hnth_contracts import CheckCompleted, CheckOutcome
from hnth_contracts.policy import Policy, load_policy
from hnth_kit.clock import ManualClock
from hnth_kit.settings import REPO_ROOT
from notification import content, phones
from notification.domain import attempts, escalations, sms
from notification.domain.meetings import Meeting, meeting_from_slot
from notification.domain.notices import Channel, Kind, Notice, Status
from notification.domain.planning import plan_assignment, plan_cancellation, plan_check_alert
from notification.domain.reminders import plan_check_reminder, plan_meeting_reminder
from notification.store import notice_document
from notification.usecases import Delivery, DeliveryConfig, Notifications

POLICY = load_policy(REPO_ROOT / "policies", "tuyen-quang")
START = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)  # 08:00 in Tuyên Quang
SOON = START - timedelta(minutes=30)
EARLY = START - timedelta(days=1)
EVERY_PARTY = {"technician:TQ-STTTT", "line_provider", "power_company"}


def meeting(revision: int = 0, previous: Meeting | None = None, **kw: object) -> Meeting:
    return meeting_from_slot(assigned("m-1", START, revision=revision, **kw), previous)


def failed_check(outcome: CheckOutcome = CheckOutcome.MISSED) -> CheckCompleted:
    return missed_check("m-1", "TQ-STTTT", START, outcome)


def by_sms(notices: list[Notice], now: datetime = SOON, policy: Policy = POLICY) -> set[str]:
    """Who gets these notices by SMS (the late-notice escalation an assignment this close
    to the opening also causes is left out: it is the duty phone's, tested on its own)."""
    planned = sms.plan_sms(notices, policy, now)
    if any(n.kind is not Kind.ESCALATION for n in notices):
        planned = [n for n in planned if n.kind is not Kind.ESCALATION]
    assert all(n.recipient.channel is Channel.SMS for n in planned)
    assert all(n.rule.rule == "notice.sms" for n in planned)
    return {n.recipient.key for n in planned}


def test_a_missed_check_alert_goes_by_sms_to_the_technician_line_and_power_duty() -> None:
    alert = plan_check_alert(failed_check(), meeting(), POLICY)
    assert by_sms(alert) == EVERY_PARTY


def test_a_check_reminder_goes_by_sms_to_the_technicians_who_have_not_checked() -> None:
    reminder = plan_check_reminder("t-check", meeting(), ["TQ-UBND"], POLICY)
    assert by_sms(reminder) == {"technician:TQ-STTTT", "technician:TQ-H-SONDUONG"}


def test_an_escalation_goes_by_sms_to_the_duty_phone() -> None:
    m = meeting()
    failed = escalations.plan_failure_escalation("n", "tuyen-quang", m.data(), "x", "550", POLICY)
    assert by_sms(failed) == {"duty"}


def test_a_change_goes_by_sms_only_in_the_last_hour() -> None:
    first = meeting()
    changed = meeting(1, previous=first, endpoints=("TQ-UBND", "TQ-STTTT"))
    notices = plan_assignment(changed, POLICY, [], SOON)
    assert by_sms(notices) == {
        "technician:TQ-UBND",
        "technician:TQ-STTTT",
        "line_provider",
        "power_company",
    }
    assert by_sms(notices, now=EARLY) == set()
    cancelled = plan_cancellation(first, POLICY, [], "hoãn")
    assert "line_provider" in by_sms(cancelled)
    assert by_sms(cancelled, now=EARLY) == set()


def test_the_day_before_reminder_and_a_first_notice_stay_e_mail_only() -> None:
    assert by_sms(plan_meeting_reminder("t-day", meeting(), POLICY)) == set()
    assert by_sms(plan_assignment(meeting(), POLICY, [], SOON)) == set()


def test_without_the_rule_nothing_goes_by_sms() -> None:
    rules = {k: v for k, v in POLICY.rules.items() if k != "notice.sms"}
    bare = POLICY.model_copy(update={"rules": rules})
    assert by_sms(plan_check_alert(failed_check(), meeting(), POLICY), policy=bare) == set()


def test_an_sms_is_its_own_notice_planned_once_under_the_same_cause() -> None:
    alert = plan_check_alert(failed_check(), meeting(), POLICY)
    both = sms.with_sms(alert, lambda _: POLICY, SOON)
    again = sms.with_sms(alert, lambda _: POLICY, SOON)
    assert [n.id for n in both] == [n.id for n in again]
    texts = [n for n in both if n.recipient.channel is Channel.SMS]
    assert {n.cause for n in texts} == {alert[0].cause}
    assert all(n.id.endswith("|sms") for n in texts)
    assert len({n.id for n in both}) == len(both)


def test_a_failed_sms_is_escalated_but_a_failed_escalation_sms_is_not() -> None:
    sms_channel = Channel.SMS.value
    assert escalations.escalates_failure(Kind.CHECK_ALERT, Status.FAILED, sms_channel)
    assert not escalations.escalates_failure(Kind.CHECK_ALERT, Status.FAILED)
    assert not escalations.escalates_failure(Kind.ESCALATION, Status.FAILED, sms_channel)
    assert not escalations.escalates_failure(Kind.CHECK_ALERT, Status.PENDING, sms_channel)


def _texts(lang: str) -> dict[str, str]:
    m = meeting()
    changed = meeting(1, previous=m, endpoints=("TQ-UBND",))
    notices = [
        *plan_check_reminder("t-check", m, [], POLICY)[:1],
        *plan_check_alert(failed_check(), m, POLICY)[:1],
        *plan_check_alert(failed_check(CheckOutcome.FAILED), m, POLICY)[:1],
        *escalations.plan_deadline_escalation("t-dl", m, ["power_company"], POLICY),
        # registered inside the notice lead time: the duty phone hears of it (no recipients)
        *[n for n in plan_assignment(m, POLICY, [], SOON) if n.kind is Kind.ESCALATION],
        *[n for n in plan_assignment(changed, POLICY, [], SOON) if n.kind is Kind.MEETING_CHANGED][
            :1
        ],
        *plan_cancellation(m, POLICY, [], "hoãn")[:1],
    ]
    found: dict[str, str] = {}
    for n in sms.plan_sms(notices, POLICY, SOON):
        text = content.sms(notice_document(n, SOON), lang, POLICY.timezone)
        found[f"{n.kind.value}:{n.cause}"] = text
    return found


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_text_is_one_short_plain_line_with_local_times(lang: str) -> None:
    texts = _texts(lang)
    kinds = {key.split(":")[0] for key in texts}
    assert kinds == {k.value for k in sms.LAST_MINUTE_KINDS} | {
        "reminder_check",
        "check_alert",
        "escalation",
    }
    for text in texts.values():
        assert text.startswith("HNTH")
        for markup in ("\n", "{", "<", "http", "Z", "+00:00"):
            assert markup not in text, text
        assert len(text) <= 200, text
        assert "08:00 10/12" in text, text  # 01:00 UTC is 08:00 in Asia/Ho_Chi_Minh
    late = [t for key, t in texts.items() if key.startswith("escalation:") and "|" in key]
    assert len(late) == 2, texts  # the deadline's and the late notice's
    joined = " ".join(texts.values())
    words = ("cảnh báo", "HỦY", "điểm cầu") if lang == "vi" else ("alert", "CANCELLED", "endpoint")
    for word in words:
        assert word in joined


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0912 000 345", "+84912000345"),
        ("0207 3822 566", "+842073822566"),
        ("+84 912 000 345", "+84912000345"),
        ("84912000345", "+84912000345"),  # the country code without its +
        ("", None),
        (None, None),
        ("gọi tổng đài", None),
    ],
)
def test_vietnamese_numbers_are_written_in_e164(raw: object, expected: str | None) -> None:
    assert phones.e164(raw) == expected


# ---------------------------------------------------------------- sending, in memory


class FakeSms:
    """The SMS channel: records (phone, text) and answers from a script (delivered after)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.script: list[attempts.Attempt] = []

    async def send(self, phone: str, text: str) -> tuple[attempts.Attempt, str | None]:
        self.sent.append((phone, text))
        attempt = self.script.pop(0) if self.script else attempts.DELIVERED
        return attempt, f"smsc-{len(self.sent)}" if attempt.delivered else None


class Quiet:
    """E-mail and webhooks that take everything (not under test here)."""

    async def send(self, message: object) -> attempts.Attempt:
        return attempts.DELIVERED

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> attempts.Attempt:
        return attempts.DELIVERED


async def sending(sms_on: bool) -> tuple[MemoryStore, Delivery, Notifications, FakeSms]:
    store, clock, texts = MemoryStore(), ManualClock(SOON), FakeSms()
    policy_for = lambda _: POLICY  # noqa: E731
    config = DeliveryConfig(
        sender="hnth@example.vn", public_base_url="https://n.example", ack_secret=b"a",
        webhook_secret=b"w", max_attempts=2,
    )  # fmt: skip
    channel = texts if sms_on else None
    delivery = Delivery(store, clock, policy_for, Quiet(), Quiet(), config, sms=channel)
    notifications = Notifications(store, MemoryTimers(), clock, policy_for, sms_on=sms_on)
    for snapshot in directory():
        await notifications.directory_changed(snapshot)
    return store, delivery, notifications, texts


async def send_all(delivery: Delivery) -> None:
    for notice_id in await delivery.due():
        await delivery.send_queued(notice_id, "replica-a")


async def test_an_alert_goes_by_sms_to_each_e164_number_and_records_the_smsc_id() -> None:
    store, delivery, notifications, texts = await sending(sms_on=True)
    alert = failed_check()
    await notifications.check_completed(alert)
    await send_all(delivery)
    sms_notices = [n for n in store.notices.values() if n["channel"] == "sms"]
    assert {n["recipient"] for n in sms_notices} == EVERY_PARTY
    assert {n["status"] for n in sms_notices} == {"sent"}
    assert {n["address"] for n in sms_notices} == {"+842073822000"}  # the samples' phone
    assert all(n["message_id"].startswith("smsc-") for n in sms_notices)
    assert len(texts.sent) == 3
    await notifications.check_completed(alert)  # redelivered
    await send_all(delivery)
    assert len(texts.sent) == 3


async def test_an_sms_that_gives_up_ends_failed_and_is_escalated_to_the_duty_contact() -> None:
    store, delivery, notifications, texts = await sending(sms_on=True)
    texts.script = [attempts.give_up("SMPP 0x0000000b Invalid destination address")] * 3
    await notifications.check_completed(failed_check())
    await send_all(delivery)
    failed = [n for n in store.notices.values() if n["status"] == "failed"]
    assert {n["channel"] for n in failed} == {"sms"}
    assert all("Invalid destination" in n["failure_reason"] for n in failed)
    escalated = [n for n in store.notices.values() if n["kind"] == "escalation"]
    assert {(n["recipient"], n["channel"]) for n in escalated} == {
        ("duty", "email"),
        ("duty", "sms"),
    }


async def test_with_no_smpp_server_nothing_is_planned_for_sms() -> None:
    store, delivery, notifications, _ = await sending(sms_on=False)
    await notifications.check_completed(failed_check())
    await send_all(delivery)
    assert {n["channel"] for n in store.notices.values()} == {"email"}
