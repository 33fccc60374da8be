"""Inputs the API fuzzer (tests/test_api_fuzz.py) once answered with a server error: each
now gets a clear 4xx and changes nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from notification.domain.attempts import Next, Recorded
from notification.domain.notices import Status
from notification.store import MEETINGS, NotificationStore

pytestmark = pytest.mark.integration


async def test_an_acknowledgement_link_with_non_ascii_characters_is_a_404(notification) -> None:
    """Was 500: hmac.compare_digest raised TypeError on a str with non-ASCII characters."""
    h = await notification()
    for token in ("\x19.)¡ñèÓÅûÕ", "bm90aWNl.é", "é"):
        for method in ("GET", "POST"):
            response = await h.http.request(method, f"/ack/{quote(token)}")
            assert response.status_code == 404, (method, token, response.text)
            assert response.json()["code"] == "unknown_acknowledgement"
    assert await h.all_notices() == []


async def test_an_acknowledgement_racing_the_senders_record_loses_neither(notification) -> None:
    """Was flaky in CI: FerretDB applies `$set` as read-modify-replace, so a link clicked
    while the sender recorded `sent` could put the notice back to pending. The
    acknowledgement is now a row of its own; both facts survive any interleaving."""
    h = await notification()
    store, now = NotificationStore(h.db), datetime.now(UTC)
    ids = [f"race-{n}|power_company|email" for n in range(24)]
    fresh = {"status": "pending", "attempts": 0, "sent_at": None, "acknowledged_at": None}
    await h.db["notices"].insert_many([{"_id": i, "tenant": "t", **fresh} for i in ids])
    sent = Next(Status.SENT, 1, None, None)

    await asyncio.gather(
        *(
            store.record([Recorded(i, sent, now, "x@example.org", f"<{n}@hnth>")])
            for n, i in enumerate(ids)
        ),
        *(store.acknowledge(i, now) for i in ids),
    )

    for i in ids:
        notice = await store.notice(i)
        assert notice is not None
        assert (notice["status"], notice["attempts"]) == ("sent", 1), notice
        assert notice["acknowledged_at"] is not None, notice


async def test_a_cascaded_meeting_is_kept_with_each_bridges_share(database, unique) -> None:
    """Reminders read the kept meeting: its cascade comes back as it went in (an older row,
    kept before cascades, reads as one bridge)."""
    from notification_samples import cascaded, in_days

    from notification.domain.meetings import meeting_from_slot

    db = database(f"notification_{unique}")
    store = NotificationStore(db)
    await store.setup()
    meeting = meeting_from_slot(cascaded("m-1", in_days(3).astimezone(UTC)), None)
    await store.save_meeting(meeting)
    kept = await store.meeting(meeting.tenant, "m-1")
    assert kept is not None
    assert kept.cascade == meeting.cascade
    assert kept.data("TQ-H-SONDUONG")["dial_in"] == "sip:VR-01@mcu2.tuyenquang.gov.vn"
    await db[MEETINGS].update_one({"_id": f"{meeting.tenant}:m-1"}, {"$unset": {"cascade": 1}})
    older = await store.meeting(meeting.tenant, "m-1")
    assert older is not None
    assert older.cascade == ()
