"""Meetings over HTTP on real Kafka + the MongoDB-compatible server: every rule with its
422 body, idempotent retries, changes, cancellations, listing, and the events on the topic."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from registration_samples import NOW, meeting_body

from hnth_contracts import MeetingCancelled, MeetingChanged, MeetingRequested, decode_event
from hnth_kit.testing import read_exactly, read_topic


async def meeting_events(registration, expect: int, timeout: float = 30.0):
    return await read_topic(
        registration.bootstrap, registration.topics.meetings, expect=expect, timeout=timeout
    )


async def exactly(registration, count: int):
    """The meeting topic's events once `count` arrived, checking no further one follows."""
    return await read_exactly(registration.bootstrap, registration.topics.meetings, count)


async def test_registered_meeting_is_requested_and_announced(registration, register) -> None:
    response = await register(meeting_body(document_number="123/UBND-KGVX"))
    assert response.status_code == 201, response.text
    meeting = response.json()
    assert meeting["status"] == "requested"
    assert meeting["endpoints"] == ["TQ-UBND", "TQ-STTTT", "TQ-H-SONDUONG"]  # main one first
    assert meeting["start"].endswith("+07:00")  # shown in Asia/Ho_Chi_Minh
    assert meeting["late_notice"] is False

    [message] = await meeting_events(registration, expect=1)
    assert message.key == b"tuyen-quang"  # the province: one scheduler owns its calendar
    event = decode_event(message.value)
    assert isinstance(event, MeetingRequested)
    assert event.meeting_id == meeting["id"]
    assert event.endpoints == ("TQ-UBND", "TQ-STTTT", "TQ-H-SONDUONG")
    assert event.document_number == "123/UBND-KGVX"
    assert (event.tenant, event.correlation_id, event.producer) == (
        "tuyen-quang",
        meeting["id"],
        "registration",
    )
    envelope = json.loads(message.value)
    assert {"event_id", "type", "schema_version", "occurred_at", "causation_id"} <= set(envelope)


BROKEN = [
    # (what the caller sends, role claims, field, rule)
    (
        {"end": (NOW + timedelta(days=3)).isoformat()},
        {},
        "end",
        "meeting.start_before_end",
    ),
    (meeting_body(hours=0.1), {}, "end", "meeting.min_duration"),
    (meeting_body(hours=13), {}, "end", "meeting.max_duration"),
    (meeting_body(days_ahead=1), {}, "start", "notice.lead_time"),
    (
        meeting_body(days_ahead=-0.1, urgent_reason="Họp khẩn phòng chống bão"),
        {},
        "start",
        "meeting.not_in_past",
    ),
    (
        meeting_body(days_ahead=1, urgent_reason="Họp khẩn"),
        {"role": "registrar", "unit": "VP-UBND"},
        "urgent_reason",
        "notice.urgent_override",
    ),
    (
        meeting_body(endpoints=["TQ-STTTT", "TQ-NOWHERE"]),  # its own list's index
        {},
        "endpoints[1]",
        "directory.endpoint_active",
    ),
    (meeting_body(main_endpoint="TQ-NOWHERE"), {}, "main_endpoint", "directory.endpoint_active"),
    (meeting_body(host_unit="NOWHERE"), {}, "host_unit", "directory.unit_active"),
    (
        meeting_body(),
        {"role": "registrar", "unit": "STTTT"},
        "host_unit",
        "registration.own_unit",
    ),
]


@pytest.mark.parametrize(("body", "claims", "field", "rule"), BROKEN, ids=[b[3] for b in BROKEN])
async def test_each_broken_rule_is_a_422_naming_field_rule_and_source(
    registration, body, claims, field, rule
) -> None:
    if "title" not in body:
        body = meeting_body(**body)
    claims = {"role": "operator", **claims}
    response = await registration.http.post(
        "/meetings", json=body, headers=registration.headers(**claims)
    )
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    matching = [e for e in errors if e["rule"] == rule]
    assert matching, errors
    assert matching[0]["field"] == field
    assert matching[0]["source"] == registration.service.policy_for("tuyen-quang").ref(rule).source
    assert matching[0]["message"]
    listed = await registration.http.get("/meetings", headers=registration.headers())
    assert listed.json()["items"] == []


async def test_rule_messages_come_in_english_on_request(registration) -> None:
    response = await registration.http.post(
        "/meetings",
        json=meeting_body(days_ahead=1),
        headers={**registration.headers(), "Accept-Language": "en"},
    )
    [error] = response.json()["errors"]
    assert "registered at least 2 days ahead" in error["message"]


async def test_inactive_endpoint_cannot_be_booked(registration, register) -> None:
    deactivated = await registration.http.post(
        "/endpoints/TQ-H-SONDUONG/deactivate", headers=registration.headers()
    )
    assert deactivated.status_code == 200
    response = await register()
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "Điểm cầu TQ-H-SONDUONG đã ngừng hoạt động."


async def test_operator_registers_an_urgent_meeting_flagged_late_notice(
    registration, register
) -> None:
    body = meeting_body(days_ahead=0.5, urgent_reason="Chỉ đạo khẩn phòng chống bão số 3")
    response = await register(body)
    assert response.status_code == 201, response.text
    assert response.json()["late_notice"] is True
    [message] = await meeting_events(registration, expect=1)
    event = decode_event(message.value)
    assert isinstance(event, MeetingRequested)
    assert event.late_notice is True
    assert event.urgent_reason == body["urgent_reason"]


async def test_retried_post_with_idempotency_key_returns_the_same_meeting(
    registration, register
) -> None:
    first = await register(meeting_body(), **{"Idempotency-Key": "retry-1"})
    again = await register(meeting_body(), **{"Idempotency-Key": "retry-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other = await register(meeting_body(title="Khác"), **{"Idempotency-Key": "retry-1"})
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    await exactly(registration, 1)
    listed = await registration.http.get("/meetings", headers=registration.headers())
    assert len(listed.json()["items"]) == 1


async def test_change_emits_meeting_changed_with_next_revision(registration, register) -> None:
    meeting = (await register()).json()
    new_start = NOW + timedelta(days=4)
    response = await registration.http.patch(
        f"/meetings/{meeting['id']}",
        json={
            "start": new_start.isoformat(),
            "end": (new_start + timedelta(hours=1)).isoformat(),
            "endpoints": ["TQ-SYT"],
            "reason": "Lãnh đạo tỉnh bận đột xuất",
        },
        headers=registration.headers(),
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["revision"] == 1
    assert changed["endpoints"] == ["TQ-UBND", "TQ-SYT"]
    messages = await meeting_events(registration, expect=2)
    event = decode_event(messages[-1].value)
    assert isinstance(event, MeetingChanged)
    assert (event.revision, event.start, event.endpoints) == (1, new_start, ("TQ-UBND", "TQ-SYT"))
    assert event.reason == "Lãnh đạo tỉnh bận đột xuất"  # for the change notices
    assert_envelope(messages[-1], meeting["id"], messages[0])


def assert_envelope(message, meeting_id: str, first) -> None:
    """Keyed by the province (one scheduler owns its calendar), in its name, from
    registration, correlated with the meeting and a fresh event id (not the request's)."""
    assert message.key == b"tuyen-quang"
    event = decode_event(message.value)
    assert (event.tenant, event.producer, event.correlation_id) == (
        "tuyen-quang",
        "registration",
        meeting_id,
    )
    assert event.event_id
    assert event.event_id != decode_event(first.value).event_id


async def test_change_naming_an_inactive_endpoint_is_refused_and_emits_nothing(
    registration, register
) -> None:
    meeting = (await register()).json()
    off = await registration.http.post(
        "/endpoints/TQ-SYT/deactivate", headers=registration.headers()
    )
    assert off.status_code == 200
    response = await registration.http.patch(
        f"/meetings/{meeting['id']}", json={"endpoints": ["TQ-SYT"]}, headers=registration.headers()
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["rule"], error["field"]) == ("directory.endpoint_active", "endpoints[0]")
    current = await registration.http.get(
        f"/meetings/{meeting['id']}", headers=registration.headers()
    )
    assert (current.json()["revision"], current.json()["endpoints"]) == (0, meeting["endpoints"])
    await exactly(registration, 1)


async def test_change_breaking_a_rule_changes_nothing(registration, register) -> None:
    meeting = (await register()).json()
    response = await registration.http.patch(
        f"/meetings/{meeting['id']}",
        json={
            "start": (NOW + timedelta(hours=5)).isoformat(),
            "end": (NOW + timedelta(hours=6)).isoformat(),
        },
        headers=registration.headers(),
    )
    assert response.status_code == 422
    assert {e["rule"] for e in response.json()["errors"]} == {"notice.lead_time"}
    current = await registration.http.get(
        f"/meetings/{meeting['id']}", headers=registration.headers()
    )
    assert current.json()["start"] == meeting["start"]
    assert current.json()["revision"] == 0
    await exactly(registration, 1)


async def test_the_it_department_sets_and_clears_the_central_host_with_a_change(
    registration, register
) -> None:
    meeting = (await register()).json()
    url, government = f"/meetings/{meeting['id']}", "Văn phòng Chính phủ"
    registrar = registration.headers("registrar", unit=meeting["host_unit"])
    refusals = [("", registration.headers()), (government, registrar)]
    for refused, who in refusals:  # an empty name; a registrar naming one
        response = await registration.http.patch(url, json={"external_host": refused}, headers=who)
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["external_host"]
    named = await registration.http.patch(
        url, json={"external_host": government}, headers=registration.headers()
    )
    assert (named.status_code, named.json()["external_host"]) == (200, government)
    cleared = await registration.http.patch(
        url, json={"external_host": None}, headers=registration.headers()
    )
    assert (cleared.status_code, cleared.json()["external_host"]) == (200, None)
    messages = await meeting_events(registration, expect=3)
    hosts = [decode_event(m.value).external_host for m in messages]
    assert hosts == [None, government, None]


async def test_started_meeting_cannot_be_changed_or_cancelled(registration, register) -> None:
    meeting = (await register()).json()
    registration.clock.advance(timedelta(days=3, minutes=1))
    for call in (
        registration.http.patch(
            f"/meetings/{meeting['id']}", json={"title": "Mới"}, headers=registration.headers()
        ),
        registration.http.post(f"/meetings/{meeting['id']}/cancel", headers=registration.headers()),
    ):
        response = await call
        assert response.status_code == 422
        assert response.json()["errors"][0]["rule"] == "meeting.not_in_past"


async def test_cancel_emits_meeting_cancelled_once(registration, register) -> None:
    meeting = (await register()).json()
    url = f"/meetings/{meeting['id']}/cancel"
    first = await registration.http.post(
        url, json={"reason": "Lãnh đạo đi công tác"}, headers=registration.headers()
    )
    again = await registration.http.post(url, headers=registration.headers())
    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == again.json()["status"] == "cancelled"
    messages = await exactly(registration, 2)
    assert [decode_event(m.value).type for m in messages] == [
        "MeetingRequested",
        "MeetingCancelled",
    ]
    cancelled = decode_event(messages[1].value)
    assert isinstance(cancelled, MeetingCancelled)
    assert cancelled.reason == "Lãnh đạo đi công tác"
    assert_envelope(messages[1], meeting["id"], messages[0])
    change = await registration.http.patch(
        f"/meetings/{meeting['id']}", json={"title": "Mới"}, headers=registration.headers()
    )
    assert change.status_code == 409


async def test_list_filters_and_pages(registration, register) -> None:
    ids = []
    for day, endpoints in [(3, ["TQ-SYT"]), (4, ["TQ-STTTT"]), (5, ["TQ-SYT"]), (6, ["TQ-SYT"])]:
        ids.append((await register(meeting_body(days_ahead=day, endpoints=endpoints))).json()["id"])
    other_unit = meeting_body(days_ahead=7, host_unit="STTTT", main_endpoint="TQ-STTTT")
    ids.append((await register(other_unit)).json()["id"])
    await registration.http.post(f"/meetings/{ids[2]}/cancel", headers=registration.headers())

    async def listed(**params: object) -> list[str]:
        response = await registration.http.get(
            "/meetings", params=params, headers=registration.headers()
        )
        assert response.status_code == 200, response.text
        return [m["id"] for m in response.json()["items"]]

    assert await listed(unit="VP-UBND") == ids[:4]
    assert await listed(endpoint="TQ-SYT") == [ids[0], ids[2], ids[3]]
    window = {
        "from": (NOW + timedelta(days=4)).isoformat(),
        "to": (NOW + timedelta(days=6)).isoformat(),
    }
    assert await listed(**window) == [ids[1], ids[2]]
    assert await listed(status="cancelled") == [ids[2]]
    assert await listed(status="requested", endpoint="TQ-SYT") == [ids[0], ids[3]]

    pages, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (
            await registration.http.get("/meetings", params=params, headers=registration.headers())
        ).json()
        pages.append([m["id"] for m in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [i for page in pages for i in page] == ids
    assert all(len(page) <= 2 for page in pages)
    bad = await registration.http.get(
        "/meetings", params={"cursor": "%%%"}, headers=registration.headers()
    )
    assert bad.status_code == 400
