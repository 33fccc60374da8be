"""`GET /availability` on the running service (real Kafka + database): a meeting assigned
through the bus, then the free windows around it, role-checked, bad input a clear 422."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from scheduling_samples import DAY, endpoint, publish, requested

from hnth_contracts import SlotAssigned, decode_event
from hnth_kit.auth import Role
from hnth_kit.service import Service
from hnth_kit.testing import eventually, read_exactly, signed_token

pytestmark = pytest.mark.integration

TENANT = "tuyen-quang"


def bearer(role: Role, **who: object) -> dict[str, str]:
    return {"Authorization": "Bearer " + signed_token(role=role, tenant=TENANT, **who)}


REGISTRAR = bearer(Role.REGISTRAR, unit="VP-UBND")
TECHNICIAN = bearer(Role.TECHNICIAN, endpoints=["TQ-UBND"])


@pytest.fixture
async def http(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=service.api)
    async with httpx.AsyncClient(transport=transport, base_url="http://scheduling") as client:
        yield client


def query(**extra: str) -> dict[str, str]:
    # the meeting day, 07:00 to 13:00 local
    return {
        "endpoints": "TQ-UBND,TQ-STTTT",
        "duration": "PT1H",
        "from": "2026-12-10T07:00",
        "to": "2026-12-10T13:00",
        **extra,
    }


async def test_free_windows_leave_out_an_assigned_meeting_and_its_buffers(
    infra, service, producer, topics, http
) -> None:
    meeting = requested("m-1", start=DAY, hours=2)  # 08:00 - 10:00 local, TQ-UBND + TQ-STTTT
    await publish(producer, topics, endpoint("TQ-UBND"), endpoint("TQ-STTTT"), meeting)
    [slot] = await read_exactly(infra.bootstrap_servers, topics.slots, 1)
    assert isinstance(decode_event(slot.value), SlotAssigned)

    answer = await http.get("/availability", params=query(), headers=REGISTRAR)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    got = [(w["start"], w["end"], w["bridge"]) for w in body["windows"]]
    # m-1 holds 07:00 - 10:15 (1 h setup, 15 min teardown); ours needs 1 h setup too
    assert got == [("2026-12-10T11:15:00+07:00", "2026-12-10T13:00:00+07:00", "MCU-TQ")]
    assert body["windows"][0]["cascade"] is False, "one bridge holds it"
    assert body["truncated"] is False

    # before the meeting: ours ends, with its 15 min teardown, when m-1's setup hour begins
    alone = await http.get(
        "/availability",
        params=query(endpoints="TQ-UBND", **{"from": "2026-12-10T00:00"}),
        headers=REGISTRAR,
    )
    assert alone.json()["windows"][0]["end"] == "2026-12-10T06:45:00+07:00"

    # when the endpoints are held, for a clerk's calendar: times only, not which meeting
    span = {"endpoints": "TQ-UBND,TQ-SYT", "from": "2026-12-10T00:00", "to": "2026-12-11T00:00"}
    busy = await http.get("/busy", params=span, headers=REGISTRAR)
    assert busy.status_code == 200, busy.text
    assert busy.json() == {
        "busy": [
            {
                "endpoint": "TQ-UBND",
                "start": "2026-12-10T08:00:00+07:00",
                "end": "2026-12-10T10:00:00+07:00",
            }
        ]
    }
    assert (await http.get("/busy", params=span, headers=TECHNICIAN)).status_code == 403
    wide = await http.get("/busy", params={**span, "to": "2026-12-30T00:00"}, headers=REGISTRAR)
    assert (wide.status_code, wide.json()["errors"][0]["field"]) == (422, "to")


async def test_the_route_checks_the_role_and_words_bad_input(
    service, producer, topics, http
) -> None:
    await publish(producer, topics, endpoint("TQ-UBND"), endpoint("TQ-STTTT"))
    assert (await http.get("/availability", params=query())).status_code == 401
    refused = await http.get("/availability", params=query(), headers=TECHNICIAN)
    assert refused.status_code == 403

    async def error(**params: str) -> dict[str, str]:
        answer = await http.get("/availability", params=query(**params), headers=REGISTRAR)
        assert answer.status_code == 422, answer.text
        first: dict[str, str] = answer.json()["errors"][0]
        return first

    assert (await error(duration="2 hours"))["field"] == "duration"
    assert (await error(duration="PT5M"))["rule"] == "meeting.min_duration"
    assert (await error(to="2026-12-09T07:00"))["field"] == "to"
    wide = await error(to="2026-12-30T07:00")
    assert (wide["field"], wide["rule"]) == ("to", "schema.range")
    assert (await error(**{"from": "tomorrow"}))["field"] == "from"
    assert (await error(endpoints=" , "))["field"] == "endpoints"
    assert (await error(day_from="8h"))["field"] == "day_from"
    assert (await error(day_from="17:00", day_to="08:00"))["field"] == "day_to"
    # were 500s: a year whose week after does not exist, an hour with an offset of its own
    far = await error(**{"from": "9999-12-31T00:00"})
    assert (far["field"], far["rule"]) == ("from", "schema.range")
    assert (await error(day_from="07:30Z"))["field"] == "day_from"
    assert (await error(weekdays="1,9"))["field"] == "weekdays"
    office_hours = query(
        **{"from": "2026-12-10T00:00", "to": "2026-12-12T00:00"},
        day_from="07:30",
        day_to="11:00",
        weekdays="4",  # 10/12 is a Thursday, 11/12 a Friday
    )
    # the endpoints' directory entries may still be on their way to scheduling
    office = await eventually(
        lambda: http.get("/availability", params=office_hours, headers=REGISTRAR),
        until=lambda r: r.status_code == 200,
    )
    assert office.status_code == 200, office.text
    assert [(w["start"], w["end"]) for w in office.json()["windows"]] == [
        ("2026-12-10T07:30:00+07:00", "2026-12-10T11:00:00+07:00")
    ]


async def test_the_lead_time_counts_from_now(service, producer, topics, http, clock) -> None:
    await publish(producer, topics, endpoint("TQ-UBND"), endpoint("TQ-STTTT"))
    now = clock.now()
    answer = await http.get(
        "/availability",
        params={"endpoints": "TQ-UBND", "duration": "PT2H"},
        headers=bearer(Role.OPERATOR),
    )
    assert answer.status_code == 200, answer.text
    first = datetime.fromisoformat(answer.json()["windows"][0]["start"])
    assert first == now + timedelta(days=2)
    assert first.utcoffset() == timedelta(hours=7)
