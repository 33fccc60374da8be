"""Directory, roles, timelines, calendar feeds and bad input, on the real broker and database."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from icalendar import Calendar
from registration_samples import (
    DIRECTORY_EVENTS,
    NOW,
    announced,
    meeting_body,
    outcomes,
    publish,
    token,
)

from hnth_contracts import (
    DIRECTORY_LOAD,
    ContactsUpdated,
    EndpointUpdated,
    UnitUpdated,
    decode_event,
    key_of,
)
from hnth_kit.auth import LEEWAY_SECONDS
from hnth_kit.testing import eventually, read_topic

# ---------------------------------------------------------------- directory

DIRECTORY_READ_SECONDS = 120
"""Every province's demo directory is hundreds of snapshots (Lạng Sơn at today's size):
on a loaded machine the relay takes more than the default 20 s to publish them all."""


async def test_demo_directory_lists_tuyen_quang_28_endpoints(registration) -> None:
    units = (await registration.http.get("/units", headers=registration.headers("viewer"))).json()
    endpoints = (
        await registration.http.get("/endpoints", headers=registration.headers("viewer"))
    ).json()
    assert len(units) == len(endpoints) == 28
    for item in units + endpoints:
        assert {"code", "name", "unit", "active"} <= set(item), item
    assert all(u["unit"] == u["code"] for u in units)  # a unit is its own owning unit
    kinds = [u["kind"] for u in units]
    assert (kinds.count("department"), kinds.count("commune") + kinds.count("ward")) == (18, 7)
    sttt = next(e for e in endpoints if e["code"] == "TQ-STTTT")
    assert sttt["technician"]["email"].endswith("@tuyenquang.gov.vn")
    contacts = (await registration.http.get("/contacts", headers=registration.headers())).json()
    assert contacts["power_company"]["name"] == "Công ty Điện lực Tuyên Quang"

    messages = await read_topic(
        registration.bootstrap,
        registration.topics.directory,
        expect=DIRECTORY_EVENTS,
        timeout=DIRECTORY_READ_SECONDS,
    )
    ours = [e for e in (decode_event(m.value) for m in messages) if e.tenant == "tuyen-quang"]
    assert len(ours) == 57
    types = [e.type for e in ours]
    assert sorted(set(types)) == ["ContactsUpdated", "EndpointUpdated", "UnitUpdated"]
    assert {e.correlation_id for e in ours} == {DIRECTORY_LOAD}  # no change to circulate
    assert types.count("EndpointUpdated") == 28
    for message in messages:
        assert message.key == key_of(decode_event(message.value))


async def test_operator_manages_the_directory_and_each_change_is_announced(registration) -> None:
    auth = registration.headers()
    unit = {"code": "XA-MINHXUAN", "name": "UBND phường Minh Xuân", "kind": "other"}
    assert (await registration.http.post("/units", json=unit, headers=auth)).status_code == 201
    assert (await registration.http.post("/units", json=unit, headers=auth)).status_code == 409
    endpoint = {
        "code": "TQ-X-MINHXUAN",
        "name": "Điểm cầu phường Minh Xuân",
        "unit": "XA-MINHXUAN",
        "kind": "software",
        "technician": {
            "name": "Hà Thu Trang",
            "email": "trang@minhxuan.tuyenquang.gov.vn",
            "language": "en",
        },
    }
    created = await registration.http.post("/endpoints", json=endpoint, headers=auth)
    assert created.status_code == 201, created.text
    renamed = await registration.http.patch(
        "/endpoints/TQ-X-MINHXUAN", json={"location": "Tầng 2, trụ sở phường"}, headers=auth
    )
    assert renamed.json()["location"] == "Tầng 2, trụ sở phường"
    off = await registration.http.post("/endpoints/TQ-X-MINHXUAN/deactivate", headers=auth)
    assert off.json()["active"] is False

    orphan = {**endpoint, "code": "TQ-X-ORPHAN", "unit": "NOWHERE"}
    refused = await registration.http.post("/endpoints", json=orphan, headers=auth)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["rule"] == "directory.unit_active"

    messages = await read_topic(
        registration.bootstrap,
        registration.topics.directory,
        expect=DIRECTORY_EVENTS + 4,
        timeout=DIRECTORY_READ_SECONDS,
    )
    snapshots = [
        e
        for e in (decode_event(m.value) for m in messages)
        if isinstance(e, EndpointUpdated) and e.code == "TQ-X-MINHXUAN"
    ]
    assert {s.correlation_id for s in snapshots} == {"directory"}  # changes, circulated
    assert [(s.active, s.location) for s in snapshots] == [
        (True, None),
        (True, "Tầng 2, trụ sở phường"),
        (False, "Tầng 2, trụ sở phường"),
    ]
    assert {s.technician.language for s in snapshots if s.technician} == {"en"}


async def test_operator_patches_and_deactivates_a_unit_and_replaces_the_contacts(
    registration, register
) -> None:
    auth = registration.headers()
    patched = await registration.http.patch(
        "/units/STTTT", json={"name": "Sở Khoa học và Công nghệ"}, headers=auth
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["active"]) == ("Sở Khoa học và Công nghệ", True)
    off = await registration.http.post("/units/STTTT/deactivate", headers=auth)
    assert off.status_code == 200, off.text
    assert off.json()["active"] is False
    assert off.json()["version"] == patched.json()["version"] + 1

    refused = await register(meeting_body(host_unit="STTTT", main_endpoint="TQ-STTTT"))
    assert refused.status_code == 422
    assert [e["rule"] for e in refused.json()["errors"]] == ["directory.unit_active"]

    current = (await registration.http.get("/contacts", headers=auth)).json()
    contacts = {
        k: current[k] for k in ("it_department", "line_provider", "power_company", "duty")
    } | {"duty": {"name": "Trực kỹ thuật đêm", "phone": "0207 3822 000", "language": "en"}}
    replaced = await registration.http.put("/contacts", json=contacts, headers=auth)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["duty"]["name"] == "Trực kỹ thuật đêm"
    again = (await registration.http.get("/contacts", headers=auth)).json()
    assert again["duty"] == replaced.json()["duty"]

    messages = await read_topic(
        registration.bootstrap,
        registration.topics.directory,
        expect=DIRECTORY_EVENTS + 3,
        timeout=DIRECTORY_READ_SECONDS,
    )
    # one key, one partition: each entry's snapshots arrive in the order they were written
    ours = [(m.key, decode_event(m.value)) for m in messages]
    ours = [(k, e) for k, e in ours if e.tenant == "tuyen-quang"]
    units = [(k, e) for k, e in ours if isinstance(e, UnitUpdated) and e.code == "STTTT"]
    assert [(k, e.name, e.active) for k, e in units[-2:]] == [
        (b"tuyen-quang:STTTT", "Sở Khoa học và Công nghệ", True),
        (b"tuyen-quang:STTTT", "Sở Khoa học và Công nghệ", False),
    ]
    [(key, snapshot)] = [(k, e) for k, e in ours if isinstance(e, ContactsUpdated)][-1:]
    assert key == b"tuyen-quang:contacts"
    assert snapshot.duty is not None
    assert (snapshot.duty.name, snapshot.duty.language) == ("Trực kỹ thuật đêm", "en")
    assert snapshot.power_company.name == "Công ty Điện lực Tuyên Quang"
    assert {(e.tenant, e.producer) for _, e in [*units, (key, snapshot)]} == {
        ("tuyen-quang", "registration")
    }


@pytest.mark.parametrize("role", ["registrar", "technician", "viewer"])
async def test_only_the_it_department_changes_the_directory(registration, role) -> None:
    claims = {"registrar": {"unit": "SYT"}, "technician": {"endpoint": "TQ-SYT"}}.get(role, {})
    auth = registration.headers(role, **claims)
    unit = {"code": "NEW", "name": "Đơn vị mới"}
    assert (await registration.http.post("/units", json=unit, headers=auth)).status_code == 403
    patch = await registration.http.patch("/endpoints/TQ-SYT", json={"name": "x"}, headers=auth)
    assert patch.status_code == 403
    off = await registration.http.post("/units/SYT/deactivate", headers=auth)
    assert off.status_code == 403
    assert (await registration.http.get("/units/SYT", headers=auth)).json()["active"] is True


# ---------------------------------------------------------------- access


async def test_missing_bad_or_expired_token_gets_401(registration) -> None:
    # expired by more than the clock skew the kit tolerates
    expired = token("operator", ttl=timedelta(seconds=-LEEWAY_SECONDS - 1))
    for headers in (
        {},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": f"Bearer {expired}"},
    ):
        for method, path in [("GET", "/meetings"), ("POST", "/meetings"), ("GET", "/units")]:
            response = await registration.http.request(method, path, headers=headers)
            assert response.status_code == 401, (method, path, headers)
            assert response.headers["www-authenticate"] == "Bearer"
    assert (await registration.http.get("/healthz")).status_code == 200
    assert (await registration.http.get("/openapi.json")).status_code == 200


@pytest.mark.parametrize(
    ("role", "claims"), [("technician", {"endpoint": "TQ-SYT"}), ("viewer", {})]
)
async def test_readers_may_not_register_change_or_cancel(
    registration, register, role, claims
) -> None:
    meeting = (await register()).json()
    auth = registration.headers(role, **claims)
    assert (
        await registration.http.post("/meetings", json=meeting_body(), headers=auth)
    ).status_code == 403
    url = f"/meetings/{meeting['id']}"
    assert (
        await registration.http.patch(url, json={"title": "x"}, headers=auth)
    ).status_code == 403
    assert (await registration.http.post(f"{url}/cancel", headers=auth)).status_code == 403


async def test_each_role_sees_only_what_it_may(registration, register) -> None:
    own = (await register()).json()  # VP-UBND with TQ-UBND, TQ-STTTT, TQ-H-SONDUONG
    other = (
        await register(meeting_body(host_unit="SYT", main_endpoint="TQ-SYT", endpoints=["TQ-SYT"]))
    ).json()
    registrar = registration.headers("registrar", unit="VP-UBND")
    technician = registration.headers("technician", endpoint="TQ-STTTT")

    async def status(path: str, headers: dict[str, str], **params: str) -> int:
        return (await registration.http.get(path, headers=headers, params=params)).status_code

    assert await status(f"/meetings/{own['id']}", registrar) == 200
    assert await status(f"/meetings/{other['id']}", registrar) == 403
    assert await status("/meetings", registrar, unit="SYT") == 403
    assert await status(f"/meetings/{own['id']}", technician) == 200
    assert await status(f"/meetings/{other['id']}", technician) == 403
    assert await status("/meetings", technician, endpoint="TQ-SYT") == 403
    mine = await registration.http.get("/meetings", headers=registrar)
    assert [m["id"] for m in mine.json()["items"]] == [own["id"]]
    seen = await registration.http.get("/meetings", headers=technician)
    assert [m["id"] for m in seen.json()["items"]] == [own["id"]]
    viewer = await registration.http.get("/meetings", headers=registration.headers("viewer"))
    assert {m["id"] for m in viewer.json()["items"]} == {own["id"], other["id"]}

    foreign = registration.headers("registrar", unit="SYT")
    change = await registration.http.patch(
        f"/meetings/{own['id']}", json={"title": "x"}, headers=foreign
    )
    assert change.status_code == 403

    # a commune's clerk sees the meeting held at its endpoint, and may not change it
    commune = registration.headers("registrar", unit="H-SONDUONG")
    assert await status(f"/meetings/{own['id']}", commune) == 200
    assert await status(f"/meetings/{other['id']}", commune) == 403
    taking_part = await registration.http.get("/meetings", headers=commune)
    assert [m["id"] for m in taking_part.json()["items"]] == [own["id"]]
    at_own = await registration.http.get(
        "/meetings", headers=commune, params={"endpoint": "TQ-H-SONDUONG"}
    )
    assert [m["id"] for m in at_own.json()["items"]] == [own["id"]]
    elsewhere = await registration.http.get(
        "/meetings", headers=commune, params={"endpoint": "TQ-SYT"}
    )
    assert elsewhere.json()["items"] == []
    change = await registration.http.patch(
        f"/meetings/{own['id']}", json={"title": "x"}, headers=commune
    )
    assert change.status_code == 403
    reader = token("registrar", unit="H-SONDUONG")
    feed = await registration.http.get(f"/calendar/units/H-SONDUONG.ics?token={reader}")
    assert feed.status_code == 200, feed.text
    events = Calendar.from_ical(feed.text).walk("VEVENT")
    assert [str(e["UID"]).split(".")[0] for e in events] == [own["id"]]
    # the place is where the commune takes part, not the host's room
    assert str(events[0]["LOCATION"]) == "Điểm cầu / endpoint: TQ-H-SONDUONG"

    # another unit's request at the commune's endpoint, refused: it never reached them
    body = meeting_body(days_ahead=5, host_unit="SYT", main_endpoint="TQ-SYT")
    refused = (await register({**body, "endpoints": ["TQ-H-SONDUONG"]})).json()
    _, rejected, _ = outcomes(refused)
    await publish(registration, rejected)
    await eventually(
        lambda: registration.http.get(f"/meetings/{refused['id']}", headers=registration.headers()),
        until=lambda r: r.json()["status"] == "rejected",
    )
    still = await registration.http.get("/meetings", headers=commune)
    assert [m["id"] for m in still.json()["items"]] == [own["id"]]
    at_commune = registration.headers("technician", endpoint="TQ-H-SONDUONG")
    theirs = await registration.http.get("/meetings", headers=at_commune)
    assert [m["id"] for m in theirs.json()["items"]] == [own["id"]]  # nor its technician's
    everything = await registration.http.get("/meetings", headers=registration.headers())
    assert refused["id"] in {m["id"] for m in everything.json()["items"]}  # the IT dept's


# ---------------------------------------------------------------- timeline


async def test_timeline_shows_decisions_and_checks_from_the_topics(registration, register) -> None:
    scheduled = (await register()).json()
    refused = (await register(meeting_body(days_ahead=5))).json()
    assigned, _, check = outcomes(scheduled)
    _, rejected, _ = outcomes(refused)
    await publish(registration, assigned, check, rejected, assigned)  # one delivered twice
    auth = registration.headers()

    async def get(meeting_id: str):
        return await registration.http.get(f"/meetings/{meeting_id}", headers=auth)

    done = await eventually(
        lambda: get(scheduled["id"]), until=lambda r: len(r.json()["timeline"]) == 3
    )
    body = done.json()
    assert body["status"] == "scheduled"
    assert body["slot"]["virtual_room"] == "VR-01"
    assert [e["type"] for e in body["timeline"]] == [
        "MeetingRequested",
        "SlotAssigned",
        "CheckCompleted",
    ]
    assert body["timeline"][2]["check"]["outcome"] == "passed"
    # every time shown in the province's zone, those inside decisions too
    assert body["slot"]["meeting"]["start"].endswith("+07:00")
    assert body["slot"]["reserved"]["end"].endswith("+07:00")
    assert all(e["at"].endswith("+07:00") for e in body["timeline"])
    assert not any("tenant" in e for e in body["timeline"]), "storage keys stay inside"
    assert body["timeline"][1]["check_deadline"].endswith("+07:00")
    assert body["timeline"][1]["slot"]["meeting"]["start"] == body["slot"]["meeting"]["start"]

    no = await eventually(
        lambda: get(refused["id"]), until=lambda r: r.json()["status"] != "requested"
    )
    assert no.json()["status"] == "rejected"
    rejection = no.json()["rejection"]
    assert rejection["conflicts"][0]["other_meeting_id"] == "mtg-other"
    assert len(rejection["alternatives"]) == 1
    assert rejection["alternatives"][0]["start"].endswith("+07:00")
    assert rejection["conflicts"][0]["other_window"]["end"].endswith("+07:00")
    assert rejection["conflicts"][0]["rule"]["rule"] == "endpoint.one_meeting_at_a_time"
    listed = await registration.http.get("/meetings", params={"status": "rejected"}, headers=auth)
    assert [m["id"] for m in listed.json()["items"]] == [refused["id"]]
    assert listed.json()["items"][0]["slot"] is None
    # the list names each scheduled meeting's bridge and room (the console's schedule)
    everything = (await registration.http.get("/meetings", headers=auth)).json()["items"]
    [listed_scheduled] = [m for m in everything if m["id"] == scheduled["id"]]
    assert (listed_scheduled["slot"]["bridge"], listed_scheduled["slot"]["virtual_room"]) == (
        "MCU-TQ",
        "VR-01",
    )
    assert listed_scheduled["slot"]["meeting"]["end"].endswith("+07:00")


async def test_meeting_from_another_system_is_adopted_and_left_to_it(registration) -> None:
    request = announced("eoffice-778", NOW + timedelta(days=4), endpoints=("TQ-SYT", "TQ-H-NAHANG"))
    await publish(registration, request)
    auth = registration.headers()
    adopted = await eventually(
        lambda: registration.http.get("/meetings/eoffice-778", headers=auth),
        until=lambda r: r.status_code == 200,
    )
    assert adopted.json()["source"] == "e-office"
    change = await registration.http.patch(
        "/meetings/eoffice-778", json={"title": "x"}, headers=auth
    )
    assert change.status_code == 409


# ---------------------------------------------------------------- calendar


async def test_calendar_feeds_parse_with_stable_uids(registration, register) -> None:
    meeting = (await register()).json()
    await registration.http.post(
        "/meetings",
        json=meeting_body(
            days_ahead=6, host_unit="SYT", main_endpoint="TQ-SYT", endpoints=["TQ-SYT"]
        ),
        headers=registration.headers(),
    )
    reader = token("registrar", unit="VP-UBND")
    feed = await registration.http.get(f"/calendar/units/VP-UBND.ics?token={reader}")
    assert feed.status_code == 200, feed.text
    assert feed.headers["content-type"].startswith("text/calendar")
    [event] = Calendar.from_ical(feed.content).walk("VEVENT")
    assert str(event["UID"]) == f"{meeting['id']}.tuyen-quang@hnth-ops", (
        "the UID notification's invitations carry"
    )
    assert str(event["SUMMARY"]) == meeting["title"]
    assert event["STATUS"] == "TENTATIVE"
    assert event.decoded("DTSTART") == NOW + timedelta(days=3)

    technician = registration.headers("technician", endpoint="TQ-H-SONDUONG")
    by_endpoint = await registration.http.get(
        "/calendar/endpoints/TQ-H-SONDUONG.ics", headers=technician
    )
    assert len(Calendar.from_ical(by_endpoint.content).walk("VEVENT")) == 1
    assert (await registration.http.get("/calendar/units/VP-UBND.ics")).status_code == 401
    other = await registration.http.get(f"/calendar/units/SYT.ics?token={reader}")
    assert other.status_code == 403


# ---------------------------------------------------------------- bad input


async def test_bad_input_gets_a_clear_4xx_and_changes_nothing(registration, register) -> None:
    auth = {**registration.headers(), "Content-Type": "application/json"}
    malformed = await registration.http.post("/meetings", content=b'{"title": ', headers=auth)
    assert malformed.status_code == 400
    assert malformed.json()["code"] == "invalid_json"

    wrong = await registration.http.post(
        "/meetings", json=meeting_body(endpoints="TQ-SYT", start="tomorrow"), headers=auth
    )
    assert wrong.status_code == 422
    fields = {e["field"] for e in wrong.json()["errors"]}
    assert {"endpoints", "start"} <= fields

    naive = await registration.http.post(
        "/meetings", json=meeting_body(start="2026-12-03T08:00:00"), headers=auth
    )
    assert naive.status_code == 422
    assert naive.json()["errors"][0]["field"] == "start"

    unknown_field = await registration.http.post(
        "/meetings", json=meeting_body(room="A1"), headers=auth
    )
    assert unknown_field.status_code == 422

    huge = meeting_body(agenda="x" * 9000, endpoints=[f"TQ-{i}" for i in range(2000)]) | {
        "chair": "y" * 200
    }
    too_big = await registration.http.post(
        "/meetings", json={**huge, "pad": "z" * 300_000}, headers=auth
    )
    assert too_big.status_code == 413
    misspelt = await registration.http.get(
        "/meetings", params={"stauts": "held"}, headers=registration.headers()
    )
    assert misspelt.status_code == 422
    assert [e["field"] for e in misspelt.json()["errors"]] == ["stauts"]
    # were 500s: a time that UTC cannot hold, a cursor of another shape, a superscript
    # version, an audit range without an offset (read as UTC, 7 hours off)
    operator = registration.headers("operator")
    for path, params in (
        ("/meetings", {"from": "0001-01-01T00:00:00+14:00"}),
        ("/materials", {"from": "0001-01-01T00:00:00+14:00"}),
        ("/audit", {"from": "2026-12-01T00:00:00"}),
    ):
        edge = await registration.http.get(path, params=params, headers=operator)
        assert edge.status_code == 422, (path, edge.text)
        assert [e["field"] for e in edge.json()["errors"]] == ["from"]
    crafted = base64.urlsafe_b64encode(b'["0001-01-01T00:00:00+14:00", "x"]').decode()
    cursor = await registration.http.get("/meetings", params={"cursor": crafted}, headers=operator)
    assert cursor.status_code == 400, cursor.text
    superscript = {**operator, "If-Match": "²".encode("latin-1")}
    version = await registration.http.patch(
        "/units/VP-UBND", json={"name": "x"}, headers=superscript
    )
    assert version.status_code == 422, version.text

    listed = await registration.http.get("/meetings", headers=registration.headers())
    assert listed.json()["items"] == []
    assert (
        await read_topic(registration.bootstrap, registration.topics.meetings, expect=1, timeout=3)
        == []
    )


NO_INPUT = {"GET /.well-known/jwks.json"}
"""Routes that read no input (no body, no parameter) and so can break no rule: a 422
would never be answered, so documenting one would mislead. Their fields are still walked."""


def bilingual(description: str | None) -> bool:
    """House style: "Vietnamese / English", both halves present."""
    vi, slash, en = (description or "").partition(" / ")
    return bool(slash and vi.strip() and en.strip())


def models_in(schema: dict) -> list[str]:
    """The component models a property or body schema points to."""
    text = str(schema)
    return [part.split("'")[0] for part in text.split("'#/components/schemas/")[1:]]


async def test_openapi_describes_every_field_and_parameter_in_both_languages(
    registration,
) -> None:
    docs = await registration.http.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text  # the page's files come from the service: no internet needed
    script = await registration.http.get("/docs/swagger-ui-bundle.js")
    assert (script.status_code, script.headers["content-type"]) == (200, "application/javascript")
    spec = (await registration.http.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    assert "/calendar/{kind}/{code}.ics" in spec["paths"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["type"] == "http"

    undescribed: list[str] = []
    seen: set[str] = set()

    def walk(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for prop, schema in schemas[name].get("properties", {}).items():
            if not bilingual(schema.get("description")):
                undescribed.append(f"{name}.{prop}")
            for inner in models_in(schema):
                walk(inner)

    operations = [
        (f"{method.upper()} {path}", op)
        for path, methods in spec["paths"].items()
        for method, op in methods.items()
        if not {"health", "metrics"} & set(op.get("tags", []))  # every route of ours
    ]
    assert len(operations) >= 25
    assert {
        "GET /materials",
        "POST /meetings/{meeting_id}/materials",
        "POST /meetings/{meeting_id}/access-requests/{request_id}/{verdict}",
    } <= {name for name, _ in operations}
    for name, op in operations:
        for param in op.get("parameters", []):
            if not bilingual(param.get("description")):
                undescribed.append(f"{name} {param['in']} {param['name']}")
        for inner in models_in(op.get("requestBody", {})):
            walk(inner)
        for inner in models_in(op["responses"]):
            walk(inner)
        if name in NO_INPUT:
            assert not op.get("parameters"), name
            assert "requestBody" not in op, name
        else:
            assert "RuleErrors" in str(op["responses"]["422"]), name
    assert undescribed == []
    # the meeting's answer has a schema: id, status, slot, rejection, timeline
    meeting = schemas["MeetingOut"]["properties"]
    assert {"id", "status", "slot", "rejection", "timeline"} <= set(meeting)
    get_meeting = spec["paths"]["/meetings/{meeting_id}"]["get"]["responses"]["200"]
    assert "MeetingOut" in str(get_meeting)
    assert schemas["MeetingIn"]["properties"]["start"]["description"] == (
        "Bắt đầu, có múi giờ / start, ISO 8601 with offset"
    )
    assert {"MeetingIn", "MeetingPatch", "UnitIn", "EndpointIn", "ContactIn"} <= seen
    assert {"MaterialOut", "MaterialList", "MaterialPage", "AccessOut", "UnitOut"} <= seen
    assert "unit" in schemas["UnitOut"]["properties"]
