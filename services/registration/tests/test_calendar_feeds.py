"""Calendar feed links: long-lived, read-only, revocable secret URLs for calendar apps."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlparse

from icalendar import Calendar

from hnth_contracts import TokensRevoked
from hnth_kit.testing import eventually


def _path(url: str) -> str:
    parts = urlparse(url)
    return f"{parts.path}?{parts.query}"


async def test_a_feed_link_reads_without_a_token_until_it_is_deleted(
    registration, register
) -> None:
    meeting = (await register()).json()
    clerk = registration.headers("registrar", unit="VP-UBND", subject="van.thu")
    made = await registration.http.post(
        "/calendar/feeds", json={"kind": "unit", "code": "VP-UBND"}, headers=clerk
    )
    assert made.status_code == 201, made.text
    link = made.json()
    assert (link["kind"], link["code"], link["subject"]) == ("unit", "VP-UBND", "van.thu")

    feed = await registration.http.get(_path(link["url"]))  # no token: the key is the proof
    assert feed.status_code == 200, feed.text
    assert feed.headers["content-type"].startswith("text/calendar")
    [event] = Calendar.from_ical(feed.content).walk("VEVENT")
    assert str(event["UID"]) == f"{meeting['id']}.tuyen-quang@hnth-ops"
    # a phone names the calendar after what it is of, not the link's id
    assert str(Calendar.from_ical(feed.content)["X-WR-CALNAME"]) == "HNTH VP-UBND"

    wrong_key = _path(link["url"]).split("key=")[0] + "key=not-the-key"
    assert (await registration.http.get(wrong_key)).status_code == 404
    listed = (await registration.http.get("/calendar/feeds", headers=clerk)).json()
    assert [f["id"] for f in listed] == [link["id"]]
    assert all("url" not in f or f["url"] is None for f in listed), "the secret is shown once"
    assert "secret_hash" not in str(listed)

    other_clerk = registration.headers("registrar", unit="SYT", subject="khac")
    refused = await registration.http.delete(f"/calendar/feeds/{link['id']}", headers=other_clerk)
    assert refused.status_code == 404
    gone = await registration.http.delete(f"/calendar/feeds/{link['id']}", headers=clerk)
    assert gone.status_code == 204
    assert (await registration.http.get(_path(link["url"]))).status_code == 404


async def test_a_feed_is_only_made_for_what_its_maker_may_read(registration) -> None:
    clerk = registration.headers("registrar", unit="VP-UBND")
    other_unit = await registration.http.post(
        "/calendar/feeds", json={"kind": "unit", "code": "SYT"}, headers=clerk
    )
    assert other_unit.status_code == 403
    unknown = await registration.http.post(
        "/calendar/feeds",
        json={"kind": "endpoint", "code": "NOWHERE"},
        headers=registration.headers(),
    )
    assert unknown.status_code == 404
    bad = await registration.http.post("/calendar/feeds", json={"kind": "room"}, headers=clerk)
    assert bad.status_code == 422


async def test_a_feed_dies_with_its_makers_sign_ins(registration) -> None:
    technician = registration.headers("technician", endpoint="TQ-H-SONDUONG", subject="ky.thuat")
    made = await registration.http.post(
        "/calendar/feeds", json={"kind": "endpoint", "code": "TQ-H-SONDUONG"}, headers=technician
    )
    url = _path(made.json()["url"])
    assert (await registration.http.get(url)).status_code == 200
    revoked = TokensRevoked.create(
        tenant="tuyen-quang",
        correlation_id="account:ky.thuat",
        producer="test",
        subject="ky.thuat",
        not_before=registration.clock.now() + timedelta(seconds=1),  # after the link
        reason="disabled",
    )
    await registration.service.revocations.record(revoked)
    await eventually(lambda: registration.http.get(url), until=lambda r: r.status_code == 404)
