"""Resending a notice: operator only, keyed by the request, sent once per request, visible on
the meeting's history, refused for a cancelled meeting's invitation."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from notification_samples import (
    ADDRESSES,
    TENANT,
    assigned,
    cancelled,
    directory,
    in_days,
)

from hnth_kit.auth import Role
from hnth_kit.testing import eventually, signed_token
from notification.store import OUTCOMES

pytestmark = pytest.mark.integration


def headers(role: Role = Role.OPERATOR, key: str | None = "resend-0001", **claims: str):
    token = signed_token(role=role, tenant=TENANT, **claims)
    found = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    return found | ({"Idempotency-Key": key} if key else {})


def resend_path(notice_id: str) -> str:
    return f"/notices/{quote(notice_id, safe='')}/resend"


async def test_operator_resends_a_notice_once_per_request(notification, smtp) -> None:
    h = await notification(smtp_port=smtp.port)
    await h.publish_directory(directory())
    await h.publish(assigned("m-r1", in_days(5)))
    notices = await eventually(
        lambda: h.notices("m-r1"),
        until=lambda ns: len(ns) == 7 and all(n["status"] == "sent" for n in ns),
    )
    [power] = [n for n in notices if n["recipient"] == "power_company"]
    to_power = ADDRESSES["power_company"]
    assert len(smtp.inbox.to(to_power)) == 1

    # refused: other roles, other provinces, unknown notice, no key; nothing is created
    for role, claims in ((Role.VIEWER, {}), (Role.REGISTRAR, {"unit": "VP-UBND"})):
        refused = await h.http.post(resend_path(power["_id"]), headers=headers(role, **claims))
        assert refused.status_code == 403
    other = {
        "Authorization": "Bearer " + signed_token(role=Role.OPERATOR, tenant="ha-giang"),
        "Idempotency-Key": "resend-0001",
    }
    assert (await h.http.post(resend_path(power["_id"]), headers=other)).status_code == 404
    unknown = await h.http.post(resend_path("nothing|here|email"), headers=headers())
    assert unknown.status_code == 404
    assert unknown.json()["message"] == "There is no such notice."
    assert "Không có" in unknown.json()["message_vi"]
    missing = await h.http.post(resend_path(power["_id"]), headers=headers(key=None))
    assert missing.status_code == 400
    assert len(await h.notices("m-r1")) == 7

    # the click and its retry: one new notice, one more e-mail, same content
    first = await h.http.post(resend_path(power["_id"]), headers=headers())
    again = await h.http.post(resend_path(power["_id"]), headers=headers())
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"] != power["_id"]
    assert first.json()["resend_of"] == power["_id"]
    await eventually(lambda: _inbox(smtp, to_power), until=lambda ms: len(ms) == 2)
    original, repeated = smtp.inbox.to(to_power)
    assert original["Subject"] == repeated["Subject"]
    assert original["Message-ID"] != repeated["Message-ID"], "a new message, not a copy"
    # the recipient acknowledges the resend: the notice it repeats counts as read too
    text = repeated.get_body(("plain",)).get_content()
    link = re.search(r"http://127\.0\.0\.1:8003(/ack/\S+)", text)
    assert link is not None
    assert (await h.http.post(link.group(1))).status_code == 200
    history = (await h.http.get("/meetings/m-r1/notices", headers=headers())).json()
    acknowledged = next(n for n in history if n["id"] == power["_id"])
    assert acknowledged["acknowledged_at"] is not None

    # a second request (new key) is a second resend
    await h.http.post(resend_path(power["_id"]), headers=headers(key="resend-0002"))
    await eventually(lambda: _inbox(smtp, to_power), until=lambda ms: len(ms) == 3)

    async def resends_of_power() -> list[dict]:
        history = (await h.http.get("/meetings/m-r1/notices", headers=headers())).json()
        return [n for n in history if n["resend_of"] == power["_id"]]

    # the message reaches the inbox just before the sender records it `sent`
    resends = await eventually(
        resends_of_power,
        until=lambda rs: len(rs) == 2 and all(n["status"] == "sent" for n in rs),
    )
    assert all(n["resent_by"] for n in resends)
    assert all(n["cause"].startswith("resend:") for n in resends)

    # a still-pending notice is not resent (it is on its way)
    await h.db[OUTCOMES].delete_one({"_id": power["_id"]})  # as before its outcome
    busy = await h.http.post(resend_path(power["_id"]), headers=headers(key="resend-0003"))
    assert busy.status_code == 409
    assert busy.json()["code"] == "still_pending"


async def test_a_cancelled_meetings_invitation_is_not_resent(notification, smtp) -> None:
    h = await notification(smtp_port=smtp.port)
    await h.publish_directory(directory())
    await h.publish(assigned("m-r2", in_days(5)))
    # the cancellation travels on another topic: publish it once the slot is known here,
    # or it may be handled first (and then there is nothing to cancel)
    await eventually(lambda: h.notices("m-r2"), until=lambda ns: len(ns) >= 7)
    await h.publish(cancelled("m-r2", "Hoãn"))
    notices = await eventually(
        lambda: h.notices("m-r2"),
        until=lambda ns: len(ns) == 14 and all(n["status"] == "sent" for n in ns),
    )
    invitation = next(n for n in notices if n["kind"] == "meeting_notice")
    cancel = next(n for n in notices if n["kind"] == "meeting_cancelled")
    refused = await h.http.post(resend_path(invitation["_id"]), headers=headers())
    assert refused.status_code == 409
    assert refused.json()["code"] == "meeting_cancelled"
    assert "hủy" in refused.json()["message_vi"]
    allowed = await h.http.post(resend_path(cancel["_id"]), headers=headers())
    assert allowed.status_code == 202
    assert allowed.json()["kind"] == "meeting_cancelled"


async def test_a_changed_meetings_earlier_notice_is_not_resent_and_links_to_the_newer(
    notification, smtp
) -> None:
    """Resending the invitation of a meeting that has since moved would announce its old
    time as news; its acknowledgement link leads to the change notice instead."""
    h = await notification(smtp_port=smtp.port)
    await h.publish_directory(directory())
    await h.publish(assigned("m-r3", in_days(5)))
    to_power = ADDRESSES["power_company"]
    await eventually(lambda: _inbox(smtp, to_power), until=lambda ms: len(ms) == 1)
    await h.publish(assigned("m-r3", in_days(6), revision=1, change_reason="Trùng lịch tỉnh"))
    notices = await eventually(
        lambda: h.notices("m-r3"),
        until=lambda ns: len(ns) == 14 and all(n["status"] == "sent" for n in ns),
    )
    [invitation, change] = [n for n in notices if n["recipient"] == "power_company"]
    refused = await h.http.post(resend_path(invitation["_id"]), headers=headers())
    assert refused.status_code == 409
    assert refused.json()["code"] == "replaced"
    history = (await h.http.get("/meetings/m-r3/notices", headers=headers())).json()
    assert {n["id"]: n["replaced_by"] for n in history if n["recipient"] == "power_company"} == {
        invitation["_id"]: change["_id"],
        change["_id"]: None,
    }

    # the change notice says what changed: the time before and now
    changed = smtp.inbox.to(to_power)[1].get_body(("plain",)).get_content()
    assert "Thời gian cũ: từ " in changed
    assert "Lý do thay đổi: Trùng lịch tỉnh" in changed
    first = smtp.inbox.to(to_power)[0].get_body(("plain",)).get_content()
    link = re.search(r"http://127\.0\.0\.1:8003(/ack/\S+)", first)
    assert link is not None
    page = await h.http.get(link.group(1), headers={"Accept": "text/html"})
    assert "đã được thay bằng thông báo mới hơn" in page.text
    assert "<button" not in page.text  # nothing to confirm on a notice that no longer stands
    newer = re.search(r'class=newer href="([^"]+)"', page.text)
    assert newer is not None
    confirmed = await h.http.post(f"/ack/{newer.group(1)}")
    assert confirmed.json()["notice"] == change["_id"]
    assert confirmed.json()["acknowledged_at"] is not None


async def _inbox(smtp, address: str) -> list:
    return smtp.inbox.to(address)
