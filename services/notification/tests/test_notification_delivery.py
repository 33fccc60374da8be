"""Notices on the real broker and database, to a real SMTP server and webhook receiver:
the right parties, once each, with a parsable iCalendar entry and a verifiable signature."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import timedelta

import icalendar
import pytest
from notification_samples import (
    ADDRESSES,
    ENDPOINTS,
    SECRET,
    TENANT,
    WEBHOOK_SECRET,
    assigned,
    cancelled,
    directory,
    in_days,
)

from hnth_contracts import (
    Conflict,
    ConflictKind,
    EndpointUpdated,
    RuleRef,
    SlotRejected,
    SlotReleased,
    Window,
)
from hnth_kit.auth import Role, issue_token
from hnth_kit.consumer import Outcome
from hnth_kit.testing import eventually
from notification.store import QUEUE, NotificationStore

pytestmark = pytest.mark.integration
MEETING_RECIPIENTS = [
    "it_department",
    "line_provider",
    "power_company",
    "unit:VP-UBND",
    *(f"technician:{e}" for e in ENDPOINTS),
]


def bearer(role: Role = Role.OPERATOR, **claims: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, role=role, tenant=TENANT, **claims)}"}


def calendar_of(message) -> icalendar.Calendar:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    cal = icalendar.Calendar.from_ical(part.get_content())
    assert part.get_param("method") == str(cal["METHOD"])
    return cal


def entry(message) -> tuple[str, str, int]:
    cal = calendar_of(message)
    [event] = cal.walk("VEVENT")
    return str(cal["METHOD"]), str(event["UID"]), int(event["SEQUENCE"])


def all_sent(kind: str, count: int):
    def check(notices: list) -> bool:
        of_kind = [n for n in notices if n["kind"] == kind]
        return len(of_kind) == count and all(n["status"] == "sent" for n in of_kind)

    return check


async def test_assignment_change_and_cancellation_reach_every_party_once(
    notification, smtp, webhook
) -> None:
    h = await notification(smtp_port=smtp.port, webhook_urls=[webhook.url])
    await h.publish_directory(directory())
    start = in_days(5)
    await h.publish(assigned("m-1", start))

    notices = await eventually(lambda: h.notices("m-1"), until=all_sent("meeting_notice", 8))
    assert sorted(n["recipient"] for n in notices if n["channel"] == "email") == sorted(
        MEETING_RECIPIENTS
    )
    inbox = smtp.inbox
    expected = sorted(ADDRESSES[r] for r in MEETING_RECIPIENTS)
    assert sorted(m["To"] for m in inbox.messages) == expected
    uid = "m-1.tuyen-quang@hnth-ops"
    assert {entry(m) for m in inbox.messages} == {("REQUEST", uid, 0)}
    technician = inbox.to(ADDRESSES["technician:TQ-STTTT"])[0]
    text = technician.get_body(("plain",)).get_content()
    assert "Hội nghị trực tuyến giao ban tháng" in text
    local = (start + timedelta(hours=7)).strftime("%H giờ %M, ngày %d/%m/%Y")
    assert local in text, "times are shown in Asia/Ho_Chi_Minh"
    assert "sip:VR-01@mcu.tuyenquang.gov.vn" in text
    assert "notice.lead_time" in text
    assert "QĐ 345/QĐ-UBND 2017" in text
    assert "sotttt@tuyenquang.gov.vn" in text, "the IT department's contact"
    assert technician.get_body(("html",)) is not None

    # the webhook: one delivery, signed over timestamp and body
    [hook] = webhook.received
    expected = hmac.new(
        WEBHOOK_SECRET.encode(),
        hook.headers["x-hnth-timestamp"].encode() + b"." + hook.body,
        hashlib.sha256,
    ).hexdigest()
    assert hook.headers["x-hnth-signature"] == f"sha256={expected}"
    assert hook.json()["calendar"] == {"uid": uid, "method": "REQUEST", "sequence": 0}
    assert icalendar.Calendar.from_ical(hook.json()["ics"])["METHOD"] == "REQUEST"

    # the history over HTTP, and the acknowledgement link in the message
    history = (await h.http.get("/meetings/m-1/notices", headers=bearer())).json()
    assert len(history) == 8
    assert {k for k in history[0]} >= {
        "recipient",
        "role",
        "channel",
        "kind",
        "status",
        "sent_at",
        "acknowledged_at",
    }
    link = re.search(r"http://127\.0\.0\.1:8003(/ack/\S+)", text)
    assert link is not None
    first = await h.http.get(link.group(1))
    assert first.status_code == 200
    again = await h.http.get(link.group(1))
    assert again.json()["acknowledged_at"] == first.json()["acknowledged_at"]
    acked = [
        n
        for n in (await h.http.get("/meetings/m-1/notices", headers=bearer())).json()
        if n["acknowledged_at"]
    ]
    assert [n["recipient"] for n in acked] == ["technician:TQ-STTTT"]
    assert (await h.http.get(link.group(1)[:-3] + "xyz")).status_code == 404

    # a change drops TQ-H-SONDUONG and moves the meeting: REQUEST with SEQUENCE 1 to the
    # remaining parties, CANCEL to the dropped endpoint's technician
    moved = start + timedelta(hours=2)
    await h.publish(assigned("m-1", moved, revision=1, endpoints=ENDPOINTS[:2]))
    await eventually(
        lambda: h.notices("m-1"),
        until=lambda ns: len(ns) == 16 and all(n["status"] == "sent" for n in ns),
    )
    changed = inbox.messages[7:]
    dropped = ADDRESSES["technician:TQ-H-SONDUONG"]
    assert sorted(m["To"] for m in changed) == sorted(ADDRESSES[r] for r in MEETING_RECIPIENTS), (
        "the remaining parties an update, the dropped technician a cancellation"
    )
    assert {entry(m) for m in changed if m["To"] != dropped} == {("REQUEST", uid, 1)}
    assert {entry(m) for m in changed if m["To"] == dropped} == {("CANCEL", uid, 1)}

    # cancelled: both events say so, one CANCEL per party, SEQUENCE above the last
    await h.publish(
        cancelled("m-1"),
        SlotReleased.create(
            tenant=TENANT,
            correlation_id="m-1",
            producer="scheduling",
            meeting_id="m-1",
            revision=1,
            reason="cancelled",
        ),
    )
    notices = await eventually(
        lambda: h.notices("m-1"),
        until=lambda ns: (
            sum(n["kind"] == "meeting_cancelled" and n["status"] == "sent" for n in ns) == 8
        ),
    )
    await eventually(
        lambda: _handled(h),
        until=lambda counts: counts[h.topics.slots] == 3 and counts[h.topics.meetings] == 1,
    )
    cancels = inbox.messages[14:]
    assert len(cancels) == 6
    assert {entry(m) for m in cancels} == {("CANCEL", uid, 2)}
    assert [d.json()["calendar"]["method"] for d in webhook.received] == [
        "REQUEST",
        "REQUEST",
        "CANCEL",
    ]


async def _handled(h) -> dict[str, int]:
    counts = h.service.consumer.counts
    return {
        topic: counts.get((topic, Outcome.HANDLED), 0)
        for topic in (h.topics.slots, h.topics.meetings)
    }


async def test_redelivered_events_and_two_replicas_send_each_notice_once(
    notification, smtp
) -> None:
    # two replicas in different consumer groups: each handles EVERY event, as after a
    # rebalance, and both sender loops compete for the same notices
    h = await notification(replicas=2, separate_groups=True, smtp_port=smtp.port)
    await h.publish_directory(directory())
    event = assigned("m-2", in_days(4))
    duplicate = event.model_copy(update={"event_id": event.event_id.__class__(int=7)})
    await h.publish(event, event, duplicate)

    await eventually(lambda: h.notices("m-2"), until=all_sent("meeting_notice", 7))
    for replica in h.replicas:
        await eventually(
            lambda r=replica: _count(r, h.topics.slots),
            until=lambda n: n == 3,
        )
    assert len(await h.notices("m-2")) == 7
    assert sorted(m["To"] for m in smtp.inbox.messages) == sorted(
        ADDRESSES[r] for r in MEETING_RECIPIENTS
    )
    # the senders' queue holds pending notices only: the reminders still to come
    queued = {q["_id"] async for q in h.db[QUEUE].find({})}
    pending = {n["_id"] for n in await h.all_notices() if n["status"] == "pending"}
    assert queued == pending
    assert all(n["kind"] != "meeting_notice" for n in await h.all_notices() if n["_id"] in queued)


async def test_a_queue_entry_whose_notice_never_came_is_dropped(notification, smtp) -> None:
    """The queue entry is written before its notice; if the writer died in between, the
    sender drops the entry once it is old enough, and sends nothing."""
    h = await notification(smtp_port=smtp.port)
    store = NotificationStore(h.db)
    now = h.service.clock.now()
    await h.db[QUEUE].insert_one({"_id": "young", "due": now, "queued_at": now})
    await h.db[QUEUE].insert_one(
        {"_id": "old", "due": now, "queued_at": now - timedelta(minutes=5)}
    )
    await store.settle_queue("young", None, now)
    await store.settle_queue("old", None, now)
    assert {q["_id"] async for q in h.db[QUEUE].find({})} == {"young"}
    assert smtp.inbox.messages == []


async def _count(replica, topic: str) -> int:
    return replica.consumer.counts.get((topic, Outcome.HANDLED), 0)


async def test_smtp_down_then_up_delivers_later(notification, smtp) -> None:
    smtp.stop()  # nothing listens on the port yet
    h = await notification(smtp_port=smtp.port, delivery_max_attempts=100)
    await h.publish_directory(directory())
    await h.publish(assigned("m-3", in_days(4)))
    waiting = await eventually(
        lambda: h.notices("m-3"),
        until=lambda ns: len(ns) == 7 and all(n["attempts"] >= 2 for n in ns),
    )
    assert {n["status"] for n in waiting} == {"pending"}
    assert all("Connect" in n["last_error"] for n in waiting), waiting[0]["last_error"]

    smtp.start()
    smtp.inbox.refusing = True  # up, but "try again later"
    await eventually(lambda: _refused(smtp), until=lambda n: n >= 3)
    smtp.inbox.refusing = False
    await eventually(lambda: h.notices("m-3"), until=all_sent("meeting_notice", 7))
    assert len(smtp.inbox.messages) == 7


async def _refused(smtp) -> int:
    return smtp.inbox.refused


async def test_refused_mailbox_ends_failed_with_reason_and_is_escalated(notification, smtp) -> None:
    smtp.inbox.unknown.add(ADDRESSES["power_company"])
    h = await notification(smtp_port=smtp.port)
    await h.publish_directory(directory())
    await h.publish(assigned("m-4", in_days(4)))
    notices = await eventually(
        lambda: h.notices("m-4"),
        until=lambda ns: any(n["kind"] == "escalation" and n["status"] == "sent" for n in ns),
    )
    [power] = [n for n in notices if n["recipient"] == "power_company"]
    assert power["status"] == "failed"
    assert power["attempts"] == 1, "a 5xx is final: no retry"
    assert "550" in power["failure_reason"]
    [alert] = smtp.inbox.to(ADDRESSES["duty"])
    assert "power_company" in alert.get_body(("plain",)).get_content()

    history = (await h.http.get("/meetings/m-4/notices", headers=bearer())).json()
    [row] = [n for n in history if n["recipient"] == "power_company"]
    assert (row["status"], row["sent_at"]) == ("failed", None)
    assert "550" in row["reason"]


async def test_recipient_without_address_waits_for_the_newest_directory_entry(
    notification, smtp
) -> None:
    h = await notification(smtp_port=smtp.port, delivery_max_attempts=1000)
    await h.publish_directory(directory(skip=["TQ-H-SONDUONG"]))
    await h.publish(assigned("m-5", in_days(4)))
    waiting = await eventually(
        lambda: h.notices("m-5"),
        until=lambda ns: (
            sum(n["status"] == "sent" for n in ns) == 6
            and any(n["last_error"] == "no address" for n in ns)
        ),
    )
    [pending] = [n for n in waiting if n["status"] == "pending"]
    assert pending["recipient"] == "technician:TQ-H-SONDUONG"

    env = {
        "tenant": TENANT,
        "correlation_id": "directory",
        "producer": "registration",
        "code": "TQ-H-SONDUONG",
        "name": "Điểm cầu Sơn Dương",
        "unit": "VP-UBND",
    }
    now = in_days(0)
    newer = EndpointUpdated.create(
        **env, occurred_at=now, technician={"name": "KT Sơn Dương", "email": "moi@tq.gov.vn"}
    )
    older = EndpointUpdated.create(
        **env,
        occurred_at=now - timedelta(days=30),
        technician={"name": "KT cũ", "email": "cu@tq.gov.vn"},
    )
    await h.publish(newer, older)  # the older one arrives last and must not win
    await eventually(lambda: h.notices("m-5"), until=all_sent("meeting_notice", 7))
    assert [m["To"] for m in smtp.inbox.messages if "tq.gov.vn" in m["To"]] == ["moi@tq.gov.vn"]


async def test_each_recipient_reads_the_notice_in_their_language(notification, smtp) -> None:
    h = await notification(smtp_port=smtp.port)
    await h.publish_directory(directory(english=["line_provider"]))
    start = in_days(5)
    await h.publish(assigned("m-lang", start))
    await eventually(lambda: h.notices("m-lang"), until=all_sent("meeting_notice", 7))

    [english] = smtp.inbox.to(ADDRESSES["line_provider"])
    [vietnamese] = smtp.inbox.to(ADDRESSES["power_company"])
    assert english["Subject"].startswith("Notice: video conference")
    assert vietnamese["Subject"].startswith("Thông báo: hội nghị truyền hình")
    text = english.get_body(("plain",)).get_content()
    assert text.startswith("Dear ")
    local = (start + timedelta(hours=7)).strftime("%H:%M, %d/%m/%Y")
    assert f"{local} (Asia/Ho_Chi_Minh)" in text, "English too shows the province's time"


async def test_rejection_tells_the_host_why_and_the_alternatives(notification, smtp) -> None:
    h = await notification(smtp_port=smtp.port)
    await h.publish_directory(directory())
    start = in_days(3)
    rule = RuleRef(rule="notice.lead_time", source="QĐ 345/QĐ-UBND 2017 Tuyên Quang")
    await h.publish(
        SlotRejected.create(
            tenant=TENANT,
            correlation_id="m-6",
            producer="scheduling",
            meeting_id="m-6",
            host_unit="VP-UBND",
            conflicts=[
                Conflict(
                    kind=ConflictKind.ENDPOINT_BUSY,
                    resource="TQ-STTTT",
                    message="Điểm cầu TQ-STTTT đã có lịch họp khác",
                    rule=rule,
                )
            ],
            alternatives=[Window(start=start + timedelta(hours=3), end=start + timedelta(hours=5))],
        )
    )
    await eventually(lambda: h.notices("m-6"), until=all_sent("meeting_rejected", 1))
    [message] = smtp.inbox.messages
    assert message["To"] == ADDRESSES["unit:VP-UBND"]
    text = message.get_body(("plain",)).get_content()
    assert "Điểm cầu TQ-STTTT đã có lịch họp khác" in text
    assert (start + timedelta(hours=10)).strftime("%H giờ %M, ngày %d/%m/%Y") in text
    registrar = bearer(Role.REGISTRAR, unit="VP-UBND")
    assert (await h.http.get("/meetings/m-6/notices", headers=registrar)).status_code == 200
    other = bearer(Role.REGISTRAR, unit="SO-YTE")
    assert (await h.http.get("/meetings/m-6/notices", headers=other)).status_code == 403
    assert (await h.http.get("/meetings/m-6/notices")).status_code == 401
