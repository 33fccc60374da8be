"""Notices on the real broker and database, to a real SMTP server and webhook receiver:
the right parties, once each, with a parsable iCalendar entry and a verifiable signature."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import uuid
from datetime import timedelta
from urllib.parse import quote

import icalendar
import pytest
from notification_samples import (
    ADDRESSES,
    BUSY,
    ENDPOINTS,
    TENANT,
    WEBHOOK_SECRET,
    access_link,
    assigned,
    cancelled,
    directory,
    in_days,
    rejected,
)

from hnth_contracts import (
    EndpointUpdated,
    NoticeAcknowledged,
    NoticeDelivered,
    RuleRef,
    SlotReleased,
    Window,
    decode_event,
)
from hnth_kit.auth import Role
from hnth_kit.consumer import Outcome
from hnth_kit.outbox import staging
from hnth_kit.testing import eventually, read_exactly, signed_token
from notification.domain.attempts import Next, Recorded, is_due
from notification.domain.notices import Kind, Notice, Recipient, Status
from notification.store import NOTICES, OUTCOMES, QUEUE, NotificationStore, queue_entry

pytestmark = pytest.mark.integration
MEETING_RECIPIENTS = [
    "it_department",
    "line_provider",
    "power_company",
    "unit:VP-UBND",
    *(f"technician:{e}" for e in ENDPOINTS),
]


def bearer(role: Role = Role.OPERATOR, **claims: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {signed_token(role=role, tenant=TENANT, **claims)}"}


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


async def test_a_webhook_listed_for_another_province_hears_nothing_of_this_one(
    notification, smtp, webhook
) -> None:
    """A deployment serving several provinces lists each one's systems under its code: Lào
    Cai's e-office is never posted Tuyên Quang's meetings."""
    h = await notification(smtp_port=smtp.port, webhook_urls={"lao-cai": [webhook.url]})
    await h.publish_directory(directory())
    await h.publish(assigned("m-lc", in_days(5)))

    notices = await eventually(
        lambda: h.notices("m-lc"), until=all_sent("meeting_notice", len(MEETING_RECIPIENTS))
    )
    assert {n["channel"] for n in notices} == {"email"}
    assert webhook.received == []


async def test_a_technician_signed_in_acknowledges_the_notice_to_their_endpoint(
    notification, smtp
) -> None:
    """The console's button: the notice to TQ-STTTT, acknowledged by its technician with
    their own token (another endpoint's technician is refused, nothing recorded)."""
    h = await notification(smtp_port=smtp.port)
    await h.publish_directory(directory())
    await h.publish(assigned("m-ack", in_days(5)))
    notices = await eventually(
        lambda: h.notices("m-ack"), until=all_sent("meeting_notice", len(MEETING_RECIPIENTS))
    )
    [mine] = [n for n in notices if n["recipient"] == "technician:TQ-STTTT"]
    path = f"/notices/{quote(mine['_id'], safe='')}/acknowledge"
    other = bearer(Role.TECHNICIAN, endpoints=["TQ-UBND"])
    refused = await h.http.post(path, headers=other)
    assert refused.status_code == 403, refused.text
    assert not await _acknowledged(h, "m-ack")

    done = await h.http.post(path, headers=bearer(Role.TECHNICIAN, endpoints=["TQ-STTTT"]))
    assert done.status_code == 200, done.text
    assert done.json()["acknowledged_at"] is not None
    assert await _acknowledged(h, "m-ack") == ["technician:TQ-STTTT"]


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
    # places by name with their technicians (the directory), the link above the signature
    assert "Đơn vị chủ trì: Văn phòng UBND tỉnh (VP-UBND)" in text
    assert "- Điểm cầu TQ-STTTT (TQ-STTTT); kỹ thuật: Cán bộ Kỹ thuật TQ-STTTT" in text
    assert text.index("Vui lòng xác nhận đã nhận thông báo") < text.index("\n-- \n")

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
    ack = link.group(1)
    # opening the link (or a mail scanner prefetching it) shows a page and changes nothing
    page = await h.http.get(ack, headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "<form method=post>" in page.text
    assert "Xác nhận đã nhận thông báo" in page.text
    assert "Confirm that I have read this notice" in page.text
    assert 'name=viewport content="width=device-width' in page.text  # read on a phone
    assert "Thông báo lịch họp trực tuyến" in page.text  # the kind in words, not its code
    assert "meeting_notice" not in page.text
    assert f"Khai mạc: {local}" in page.text
    assert "Điểm cầu / endpoint: TQ-STTTT" in page.text
    assert (await h.http.get(ack)).json()["acknowledged_at"] is None
    assert not await _acknowledged(h, "m-1")
    # the button POSTs to the same URL: acknowledged once, a second click keeps the time
    first = await h.http.post(ack)
    assert first.status_code == 200
    again = await h.http.post(ack)
    assert again.json()["acknowledged_at"] == first.json()["acknowledged_at"] is not None
    assert await _acknowledged(h, "m-1") == ["technician:TQ-STTTT"]
    done = await h.http.get(ack, headers={"Accept": "text/html"})
    assert "Đã xác nhận lúc" in done.text
    assert "<form" not in done.text
    thanks = await h.http.post(ack, headers={"Accept": "text/html"})
    assert "Confirmed at" in thanks.text
    assert (await h.http.get(ack[:-3] + "xyz")).status_code == 404
    assert (await h.http.post(ack[:-3] + "xyz")).status_code == 404

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


async def _acknowledged(h, meeting_id: str) -> list[str]:
    history = (await h.http.get(f"/meetings/{meeting_id}/notices", headers=bearer())).json()
    return [n["recipient"] for n in history if n["acknowledged_at"]]


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
    queued = {q["notice"] async for q in h.db[QUEUE].find({})}
    pending = {n["_id"] for n in await h.all_notices() if n["status"] == "pending"}
    assert queued == pending
    assert all(n["kind"] != "meeting_notice" for n in await h.all_notices() if n["_id"] in queued)


async def test_a_queue_entry_whose_notice_never_came_is_dropped(notification, smtp) -> None:
    """The queue entry is written before its notice; if the writer died in between, the
    sender drops the entry once it is old enough, and sends nothing."""
    h = await notification(smtp_port=smtp.port)
    store = NotificationStore(h.db)
    now = h.service.clock.now()
    await h.db[QUEUE].insert_one(queue_entry("young", now, now))
    await h.db[QUEUE].insert_one(queue_entry("old", now, now - timedelta(minutes=5)))
    await store.settle_queue("young", None, now)  # a store that never saw them: it looks
    await store.settle_queue("old", None, now)
    assert {q["notice"] async for q in h.db[QUEUE].find({})} == {"young"}
    assert smtp.inbox.messages == []


async def test_a_sender_claims_a_batch_in_one_write_and_takes_over_a_dead_senders(
    database, unique
) -> None:
    """Claims are inserts (atomic on FerretDB and MongoDB): of a batch a sender gets the
    notices no live sender holds, in its order; a release frees only its own; a dead
    sender's claims are taken over once their lease ran out."""
    store = NotificationStore(database(f"notification_{unique}"))
    now, lease = in_days(0), timedelta(seconds=60)
    assert await store.claim_many(["a", "b", "c"], "one", now, lease) == ["a", "b", "c"]
    assert await store.claim_many(["d", "c", "b"], "two", now, lease) == ["d"]
    await store.release_many(["a", "d"], "one")  # "d" is not its own
    assert await store.claim_many(["a", "d"], "two", now, lease) == ["a"]
    later = now + lease + timedelta(seconds=1)  # "one" died holding "b" and "c"
    assert await store.claim_many(["c", "b"], "three", later, lease) == ["c", "b"]
    assert await store.claim_many(["b", "c", "e"], "two", later, lease) == ["e"]


async def test_the_queue_is_read_by_due_time_and_a_retry_moves_its_entry(database, unique) -> None:
    """The poll reads entries keyed by when due (an `_id` range, oldest first); a retry's
    entry moves to its next attempt, the old one gone."""
    db = database(f"notification_{unique}")
    store = NotificationStore(db)
    await store.setup()
    now = in_days(0)
    late, early = report_request("r-late"), report_request("r-early")
    await store.add_notices([late], now + timedelta(minutes=1))
    await store.add_notices([early], now)
    assert await store.due(now, 10) == [early.id]
    assert await store.due(now + timedelta(minutes=1), 10) == [early.id, late.id]

    retry = Next(Status.PENDING, attempts=1, next_attempt_at=now + timedelta(minutes=5), reason="x")
    await store.record([Recorded(early.id, retry, now, None, None)])

    assert await store.due(now + timedelta(minutes=4), 10) == [late.id]
    assert await store.due(now + timedelta(minutes=5), 10) == [late.id, early.id]
    assert await db[QUEUE].count_documents({}) == 2, "one entry a notice"


async def test_a_replica_that_added_a_notice_again_still_finds_its_entry(database, unique) -> None:
    """A redelivery on another replica deletes only the entry it wrote itself (at the same
    millisecond the key is the first replica's entry, which stays), and takes the notices
    off the queue there later by finding the first replica's entries."""
    db = database(f"notification_{unique}")
    first, other = NotificationStore(db), NotificationStore(db)
    await first.setup()
    now = in_days(0)
    same_time, later = report_request("r-1"), report_request("r-2")
    await first.add_notices([same_time, later], now)
    assert await other.add_notices([same_time], now) == [], "there already"
    assert await other.add_notices([later], now + timedelta(seconds=1)) == []
    assert await db[QUEUE].count_documents({}) == 2, "the first replica's two"

    await other.dequeue([same_time.id, later.id])

    assert await db[QUEUE].count_documents({}) == 0


async def test_entries_queued_before_the_keys_move_to_them_at_start(database, unique) -> None:
    """An upgrade: entries written by notice id (with a `due` index) are keyed by due time
    when a replica starts, and polled as any other."""
    db = database(f"notification_{unique}")
    now = in_days(0)
    await db[QUEUE].create_index("due", name="due")
    await db[QUEUE].insert_one({"_id": "old-notice", "due": now, "queued_at": now})

    await NotificationStore(db).setup()

    [entry] = await db[QUEUE].find({}).to_list()
    assert entry == queue_entry("old-notice", now, now) | {"due": entry["due"]}
    assert "due" not in await db[QUEUE].index_information()
    assert await NotificationStore(db).due(now, 10) == ["old-notice"]


async def test_a_restart_queues_no_finished_notice(database, unique) -> None:
    """A finished notice's own document still says pending (its state is its outcome row):
    the start's one-time move of pending notices into the queue, for a database from before
    the queue, must not take it for one on every restart."""
    db = database(f"notification_{unique}")
    store = NotificationStore(db)
    await store.setup()
    now = in_days(0)
    done, waiting = report_request("r-1"), report_request("r-2")
    await store.add_notices([done, waiting], now)
    sent = Next(Status.SENT, attempts=1, next_attempt_at=None, reason=None)
    await store.record([Recorded(done.id, sent, now, "kt@example.vn", "<m@x>")])
    await store.dequeue([done.id])
    assert (await db[NOTICES].find_one({"_id": done.id}) or {})["status"] == "pending"

    await NotificationStore(db).setup()  # the restart

    assert [q["notice"] async for q in db[QUEUE].find({})] == [waiting.id]
    assert (await store.notice(done.id) or {})["status"] == Status.SENT.value


async def test_a_notice_added_again_after_it_was_sent_leaves_no_queue_entry(
    database, unique
) -> None:
    """A redelivered event adds its notices again: the queue entry it writes first must not
    outlive the insert that finds the notice already sent (no sender runs here to tidy up)."""
    db = database(f"notification_{unique}")
    store = NotificationStore(db)
    await store.setup()
    now = in_days(0)
    notice = report_request("r-1")
    assert await store.add_notices([notice, notice], now) == [notice.id], "given twice: once"
    assert [q["notice"] async for q in db[QUEUE].find({})] == [notice.id]
    sent = Next(Status.SENT, attempts=1, next_attempt_at=None, reason=None)
    await store.record([Recorded(notice.id, sent, now, "kt@example.vn", "<m@x>")])
    await store.dequeue([notice.id])  # as the sender does with its batch's finished notices
    assert await db[QUEUE].count_documents({}) == 0

    await store.add_notices([notice], now)  # the redelivery

    assert await db[QUEUE].count_documents({}) == 0
    assert (await store.notice(notice.id) or {})["status"] == Status.SENT.value


async def test_a_notice_just_stored_is_left_to_its_own_sender_before_other_polls_see_it(
    database, unique
) -> None:
    """The storing replica hands the notice to its sender by id; the queue shows it due to
    every replica's poll only once `handed_for` has passed (what a crash left is then sent
    by another replica), so two senders do not take it up at once."""
    db = database(f"notification_{unique}")
    store = NotificationStore(db, handed_for=timedelta(seconds=15))
    await store.setup()
    now = in_days(0)
    notice = report_request("r-1")
    assert await store.add_notices([notice], now) == [notice.id]

    assert is_due(await store.notice_to_send(notice.id), now), "its own sender sends it now"
    assert await store.due(now + timedelta(seconds=14), 10) == [], "no other poll sees it yet"
    assert await store.due(now + timedelta(seconds=15), 10) == [notice.id]


async def test_a_sender_takes_a_notice_its_replica_just_stored_from_its_copy_once(
    database, unique
) -> None:
    """Within half the handed time no other replica can have taken the notice up, so the
    storing replica's sender uses its own copy, as a read would return it, instead of
    reading it back; once given out (or with no handed time) the notice is read."""
    db = database(f"notification_{unique}")
    store = NotificationStore(db, handed_for=timedelta(seconds=15))
    other_replica = NotificationStore(db, handed_for=timedelta(seconds=15))
    unhanded = NotificationStore(db)
    await store.setup()
    now = in_days(0)
    data = {"opens_at": now + timedelta(microseconds=1234), "endpoints": ("TQ-A", "TQ-B")}
    kept = dataclasses.replace(report_request("r-1"), data=data)
    read_back = report_request("r-2")
    await store.add_notices([kept], now)
    await unhanded.add_notices([read_back], now)
    await db["notices"].update_many({}, {"$set": {"changed_behind_its_back": True}})

    as_read = await other_replica.notices_to_send([kept.id, read_back.id])
    copies = await store.notices_to_send([kept.id, read_back.id])
    assert copies[kept.id] == {
        k: v for k, v in as_read[kept.id].items() if k != "changed_behind_its_back"
    }, "the copy, with the types and precision of a read"
    assert copies[read_back.id] == as_read[read_back.id], "stored elsewhere: read"
    again = await store.notices_to_send([kept.id])
    assert again[kept.id] == as_read[kept.id], "the copy is given out once"


async def test_a_record_stages_its_delivery_facts_for_publishing_from_memory_once_written(
    database, unique
) -> None:
    """A sender's record keeps the events it wrote (a notice's one delivery, in its outcome
    row) for publishing from memory; an outcome that found the notice finished already
    (another sender recorded it) keeps none: its announcement is left to the relay's pass,
    which finds those events are not there."""
    db = database(f"notification_{unique}")
    store = NotificationStore(db)
    await store.setup()
    now = in_days(0)
    notices = [report_request(f"r-{n}") for n in range(3)]
    await store.add_notices(notices, now)
    sent = Next(Status.SENT, attempts=1, next_attempt_at=None, reason=None)
    fact = NoticeDelivered.create(
        tenant="tuyen-quang",
        correlation_id="r-0",
        producer="test",
        notice_id=notices[0].id,
        meeting_id="m-1",
        kind="meeting_notice",
        recipient_role="technician",
        delivered_at=now,
    )
    with staging() as staged:
        await store.record([Recorded(notices[0].id, sent, now, "kt@x.vn", "<m0@x>", [fact])])
    [fresh] = staged.fresh
    assert (fresh.collection, fresh.doc_id, staged.announced) == (OUTCOMES, notices[0].id, 1)
    assert [e["event_id"] for e in fresh.entries] == [str(fact.event_id)]
    stored = await db[OUTCOMES].find_one({"_id": notices[0].id})
    assert stored is not None
    assert stored["_outbox"] == fresh.entries, "what is published is what was written"

    again = fact.model_copy(update={"event_id": uuid.uuid4()})
    with staging() as staged:
        await store.record(
            [
                Recorded(notices[0].id, sent, now, "kt@x.vn", "<m0@x>", [again]),  # finished
                Recorded(notices[1].id, sent, now, "kt@x.vn", "<m1@x>", [fact]),
            ]
        )
    assert staged.announced == 2
    assert [f.doc_id for f in staged.fresh] == [notices[1].id], "only the row inserted now"
    assert (await store.notice(notices[0].id) or {})["message_id"] == "<m0@x>", "the first"


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


def escalated(recipient: str):
    """The recipient's notice is recorded `failed` and the duty contact was told (the
    escalation is stored first, so it may be out before the failure is recorded)."""

    def check(notices: list) -> bool:
        return any(
            n["recipient"] == recipient and n["status"] == "failed" for n in notices
        ) and any(n["kind"] == "escalation" and n["status"] == "sent" for n in notices)

    return check


async def refused_by_the_power_company(notification, smtp, meeting_id: str):
    """The power company's mailbox is unknown (550): its notice fails and is escalated."""
    smtp.inbox.unknown.add(ADDRESSES["power_company"])
    h = await notification(smtp_port=smtp.port)
    await h.publish_directory(directory())
    await h.publish(assigned(meeting_id, in_days(4)))
    return h, await eventually(lambda: h.notices(meeting_id), until=escalated("power_company"))


async def _refused(smtp) -> int:
    return smtp.inbox.refused


async def test_refused_mailbox_ends_failed_with_reason_and_is_escalated(notification, smtp) -> None:
    h, notices = await refused_by_the_power_company(notification, smtp, "m-4")
    [power] = [n for n in notices if n["recipient"] == "power_company"]
    assert power["status"] == "failed"
    assert power["attempts"] == 1, "a 5xx is final: no retry"
    assert "550" in power["failure_reason"]
    [alert] = smtp.inbox.to(ADDRESSES["duty"])
    assert "tới Điện lực: 550" in alert.get_body(("plain",)).get_content()  # the party in words

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
    later = Window(start=start + timedelta(hours=3), end=start + timedelta(hours=5))
    await h.publish(rejected("m-6", title="Giao ban tháng 12", alternatives=[later]))
    await eventually(lambda: h.notices("m-6"), until=all_sent("meeting_rejected", 1))
    [message] = smtp.inbox.messages
    assert message["To"] == ADDRESSES["unit:VP-UBND"]
    assert message["Subject"] == 'Chưa xếp được lịch: hội nghị truyền hình "Giao ban tháng 12"'
    text = message.get_body(("plain",)).get_content()
    assert BUSY in text
    assert (start + timedelta(hours=10)).strftime("%H giờ %M, ngày %d/%m/%Y") in text
    registrar = bearer(Role.REGISTRAR, unit="VP-UBND")
    assert (await h.http.get("/meetings/m-6/notices", headers=registrar)).status_code == 200
    other = bearer(Role.REGISTRAR, unit="SO-YTE")
    assert (await h.http.get("/meetings/m-6/notices", headers=other)).status_code == 403
    assert (await h.http.get("/meetings/m-6/notices")).status_code == 401


def webhook_notice(notices: list) -> dict:
    [found] = [n for n in notices if n["channel"] == "webhook"]
    return found


def webhook_is(status: str):
    return lambda notices: any(n["channel"] == "webhook" and n["status"] == status for n in notices)


async def test_a_webhook_answering_503_is_retried_until_it_takes_the_notice(
    notification, smtp, webhook
) -> None:
    webhook.statuses = [503, 503]  # down twice, then 200
    h = await notification(smtp_port=smtp.port, webhook_urls=[webhook.url])
    await h.publish(assigned("m-w1", in_days(5)))
    notices = await eventually(lambda: h.notices("m-w1"), until=webhook_is("sent"))
    hook = webhook_notice(notices)
    assert hook["attempts"] == 3, "two 503s, then delivered"
    assert hook["sent_at"] is not None
    assert webhook.statuses == []
    [delivery] = webhook.received
    assert delivery.headers["x-hnth-delivery"] == hook["_id"]


async def test_a_webhook_answering_404_ends_failed_at_once_and_is_escalated(
    notification, smtp, webhook
) -> None:
    webhook.statuses = [404]
    h = await notification(smtp_port=smtp.port, webhook_urls=[webhook.url])
    await h.publish_directory(directory())
    await h.publish(assigned("m-w2", in_days(5)))
    notices = await eventually(lambda: h.notices("m-w2"), until=escalated(f"webhook:{webhook.url}"))
    hook = webhook_notice(notices)
    assert (hook["status"], hook["attempts"], hook["failure_reason"]) == ("failed", 1, "HTTP 404")
    assert webhook.received == []
    history = (await h.http.get("/meetings/m-w2/notices", headers=bearer())).json()
    [row] = [n for n in history if n["channel"] == "webhook"]
    assert (row["status"], row["reason"], row["sent_at"]) == ("failed", "HTTP 404", None)
    [alert] = smtp.inbox.to(ADDRESSES["duty"])
    assert "HTTP 404" in alert.get_body(("plain",)).get_content()


async def test_a_failure_escalation_survives_a_crash_before_failed_is_recorded(
    notification, smtp, monkeypatch
) -> None:
    """The sender dies right after deciding `failed`, before recording it: the escalation
    is already stored, the notice is still pending, the next attempt records it, and the
    duty contact hears once."""
    record = NotificationStore.record
    at_crash: list[list] = []

    async def crash_once(self, recorded):
        failed = [r for r in recorded if r.result.status is Status.FAILED]
        if failed and not at_crash:
            at_crash.append(await self.for_cause(f"{failed[0].notice_id}|escalation"))
            raise ConnectionResetError("the sender died before recording")
        await record(self, recorded)

    monkeypatch.setattr(NotificationStore, "record", crash_once)
    _, notices = await refused_by_the_power_company(notification, smtp, "m-crash")
    [[stored]] = at_crash
    assert (stored["kind"], stored["recipient"]) == ("escalation", "duty"), (
        "the escalation was stored before the crash"
    )
    [power] = [n for n in notices if n["recipient"] == "power_company"]
    assert (power["status"], power["attempts"]) == ("failed", 1), "recorded by the retry"
    assert [n["kind"] for n in notices].count("escalation") == 1
    assert len(smtp.inbox.to(ADDRESSES["duty"])) == 1


async def test_technicians_see_their_endpoints_meetings_and_viewers_see_all(
    notification, smtp
) -> None:
    h = await notification(smtp_port=smtp.port)
    await h.publish_directory(directory())
    await h.publish(assigned("m-see", in_days(5), endpoints=("TQ-UBND", "TQ-STTTT")))
    await eventually(lambda: h.notices("m-see"), until=all_sent("meeting_notice", 6))
    path = "/meetings/m-see/notices"
    own = await h.http.get(path, headers=bearer(Role.TECHNICIAN, endpoint="TQ-STTTT"))
    assert own.status_code == 200
    assert len(own.json()) == 6
    other = await h.http.get(path, headers=bearer(Role.TECHNICIAN, endpoint="TQ-H-SONDUONG"))
    assert other.status_code == 403
    viewer = await h.http.get(path, headers=bearer(Role.VIEWER))
    assert viewer.status_code == 200
    assert sorted(n["recipient"] for n in viewer.json()) == sorted(
        r for r in MEETING_RECIPIENTS if r != "technician:TQ-H-SONDUONG"
    )
    english = await h.http.get(
        path,
        headers={**bearer(Role.TECHNICIAN, endpoint="TQ-H-SONDUONG"), "Accept-Language": "en"},
    )
    assert english.json()["message"] == "You may not see this meeting's notices."


async def test_an_english_host_unit_reads_the_rejection_in_english(notification, smtp) -> None:
    h = await notification(smtp_port=smtp.port)
    await h.publish_directory(directory(english=["unit:VP-UBND"]))
    english = "Endpoint TQ-STTTT is booked for another meeting"
    await h.publish(rejected("m-6e", title="Monthly briefing", message_en=english))
    await eventually(lambda: h.notices("m-6e"), until=all_sent("meeting_rejected", 1))
    [message] = smtp.inbox.messages
    assert message["Subject"] == 'Not scheduled: video conference "Monthly briefing"'
    text = message.get_body(("plain",)).get_content()
    assert english in text
    assert BUSY not in text


async def test_a_password_link_is_mailed_once_in_the_persons_language(notification, smtp) -> None:
    """Registration's `AccessLinkIssued`, delivered twice, is one e-mail with the link; a
    later link for the same account (same partition, so handled after both) is another."""
    h = await notification(smtp_port=smtp.port)
    first = access_link(link="https://console.example/set-password?token=first-0123456789")
    later = access_link(
        purpose="reset",
        language="en",
        link="https://console.example/set-password?token=later-0123456789",
    )
    await h.publish(first, first, later)
    await eventually(h.all_notices, until=all_sent(Kind.ACCESS_LINK, 2))
    # the SMTP server had each mail before its notice was recorded sent
    [vietnamese, english] = sorted(smtp.inbox.to(first.email), key=lambda m: m["Subject"])[::-1]
    text = vietnamese.get_body(("plain",)).get_content()
    assert vietnamese["Subject"] == "HNTH: đặt mật khẩu cho tài khoản của bạn"
    assert text.count(first.link) == 1
    assert later.link not in text
    assert "Kính gửi Trần Thị Bình" in text
    assert "(giờ Việt Nam)" in text
    assert "/ack/" not in text
    assert english["Subject"] == "HNTH: set the password of your account"
    assert later.link in english.get_body(("plain",)).get_content()
    notices = await h.all_notices()
    assert {n["meeting_id"] for n in notices} == {None}
    assert {n["_id"] for n in notices} == {
        f"access:{e.event_id}|account:{e.subject}|email" for e in (first, later)
    }


async def test_delivered_and_acknowledged_formal_notices_are_published_once_each(
    notification, smtp, webhook, infra
) -> None:
    h = await notification(smtp_port=smtp.port, webhook_urls=[webhook.url])
    await h.publish_directory(directory())
    late = in_days(1)  # inside the 2-day lead time: delivered after its notice deadline
    await h.publish(assigned("m-facts", in_days(5)), assigned("m-late", late, late_notice=True))
    for meeting in ("m-facts", "m-late"):
        await eventually(lambda m=meeting: h.notices(m), until=all_sent("meeting_notice", 8))

    # one fact per notice to a party (7 each); the webhook delivery is not one
    facts = [
        decode_event(m.value)
        for m in await read_exactly(infra.bootstrap_servers, h.topics.notices, 14)
    ]
    assert {type(f) for f in facts} == {NoticeDelivered}
    on_time = {(f.meeting_id, f.on_time) for f in facts}
    assert on_time == {("m-facts", True), ("m-late", False)}
    assert {f.recipient_role for f in facts} == {
        "it_department",
        "line_provider",
        "power_company",
        "host_unit",
        "technician",
    }
    assert {f.rule.rule for f in facts if f.rule} == {"notice.lead_time"}

    technician = smtp.inbox.to(ADDRESSES["technician:TQ-STTTT"])[0]
    text = technician.get_body(("plain",)).get_content()
    ack = re.search(r"http://127\.0\.0\.1:8003(/ack/\S+)", text).group(1)
    assert (await h.http.post(ack)).status_code == 200
    assert (await h.http.post(ack)).status_code == 200  # a second click: no second fact
    after = [
        decode_event(m.value)
        for m in await read_exactly(infra.bootstrap_servers, h.topics.notices, 15)
    ]
    [acknowledged] = [f for f in after if isinstance(f, NoticeAcknowledged)]
    assert acknowledged.notice_id in {f.notice_id for f in facts}


def report_request(report: str) -> Notice:
    """A year-end report request to Tuyên Quang's STTTT technician."""
    return Notice(
        cause=f"report:tuyen-quang:{report}",
        kind=Kind.REPORT_REQUEST,
        recipient=Recipient("technician:TQ-STTTT", "technician"),
        tenant="tuyen-quang",
        rule=RuleRef(rule="report.year_end", source="test"),
    )
