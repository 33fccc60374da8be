"""Materials and records kept durable and exact on the real broker and database: an upload,
a decision and the announcement of the minutes are one write each (a crash right after it
loses nothing), a retried upload stores its file once, and the IT department finds every
material of the province in one list."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
from registration_samples import NOW, meeting_body, publish
from test_registration_materials import DOCX, new_meeting, pdf, record_due, upload

from hnth_contracts import decode_event
from hnth_kit.testing import eventually, read_exactly, read_topic, stop_relay
from registration.store import MaterialsStore, RegistrationStore


class Crash(Exception):
    """The process dies here."""


async def submissions(reg, expect: int = 1, timeout: float = 20.0) -> list[Any]:
    messages = await read_topic(reg.bootstrap, reg.topics.reports, expect=expect, timeout=timeout)
    events = [decode_event(m.value) for m in messages]
    return [e for e in events if e.type == "ReportSubmitted"]


async def shown(reg, meeting_id: str) -> dict[str, Any]:
    return (await reg.http.get(f"/meetings/{meeting_id}", headers=reg.headers())).json()


async def test_minutes_stored_just_before_a_crash_are_announced_after_the_restart(
    restartable, monkeypatch
) -> None:
    minutes = b"PK\x03\x04" + os.urandom(4000)
    async with restartable() as reg:
        meeting = await new_meeting(reg)
        await publish(reg, record_due(meeting))
        await eventually(lambda: shown(reg, meeting["id"]), until=lambda b: b["record_missing"])

        # from here on this process publishes nothing, and it dies right after the
        # material's one write: no later write may be needed for the record to be complete
        await stop_relay(reg.service)
        save = MaterialsStore.save

        async def save_then_crash(self, *args, **kwargs):
            await save(self, *args, **kwargs)
            raise Crash

        monkeypatch.setattr(MaterialsStore, "save", save_then_crash)
        with pytest.raises(Crash):
            await upload(
                reg, meeting["id"], minutes, auth=reg.headers(), kind="minutes", ctype=DOCX
            )
        assert await submissions(reg, expect=2, timeout=2) == []
        monkeypatch.undo()

    async with restartable() as again:
        [announced] = await submissions(again, expect=2)
        assert announced.report_id == record_due(meeting).report_id
        assert announced.submitted_by == "operator:tuyen-quang"
        body = await shown(again, meeting["id"])
        assert body["record_missing"] is False
        uploaded = [e for e in body["timeline"] if e["type"] == "MaterialUploaded"]
        assert [e["material_kind"] for e in uploaded] == ["minutes"]
        listed = await again.http.get(
            f"/meetings/{meeting['id']}/materials", headers=again.headers()
        )
        assert listed.json()["record_missing"] is False
        await read_exactly(again.bootstrap, again.topics.reports, 2)  # announced once


async def test_a_decision_is_on_the_timeline_even_if_the_process_dies_right_after_it(
    materials_registration, monkeypatch
) -> None:
    reg = materials_registration
    meeting = await new_meeting(reg)
    base = f"/meetings/{meeting['id']}"
    health = reg.headers("registrar", unit="SYT")
    asked = await reg.http.post(f"{base}/access-requests", json={"reason": "y"}, headers=health)
    decide = MaterialsStore.decide

    async def decide_then_crash(self, decision):
        await decide(self, decision)
        raise Crash

    monkeypatch.setattr(MaterialsStore, "decide", decide_then_crash)
    with pytest.raises(Crash):
        await reg.http.post(
            f"{base}/access-requests/{asked.json()['id']}/grant", headers=reg.headers()
        )
    monkeypatch.undo()
    trail = [(e["type"], e["by"]) for e in (await shown(reg, meeting["id"]))["timeline"]]
    assert trail[-2:] == [
        ("MaterialAccessRequested", "registrar:SYT"),
        ("MaterialAccessGranted", "operator:tuyen-quang"),
    ]
    assert (await reg.http.get(f"{base}/materials", headers=health)).json()["access"] == "read"


async def test_minutes_racing_their_report_due_are_announced_once(
    materials_registration, monkeypatch
) -> None:
    reg = materials_registration
    meeting = await new_meeting(reg)
    due = record_due(meeting)
    await publish(reg, due)
    await eventually(lambda: shown(reg, meeting["id"]), until=lambda b: b["record_missing"])
    record_due_of = RegistrationStore.record_due
    looks: list[str] = []

    async def not_yet_the_first_time(self, tenant, meeting_id):
        # the upload looks before the ReportDue is stored, the handler before the minutes are
        looks.append(meeting_id)
        return None if len(looks) == 1 else await record_due_of(self, tenant, meeting_id)

    monkeypatch.setattr(RegistrationStore, "record_due", not_yet_the_first_time)
    minutes = b"PK\x03\x04" + os.urandom(1000)
    done = await upload(reg, meeting["id"], minutes, auth=reg.headers(), kind="minutes", ctype=DOCX)
    assert done.status_code == 201
    assert len(looks) == 2  # it looked again after storing
    [announced] = await submissions(reg, expect=2)
    assert announced.report_id == due.report_id
    await read_exactly(reg.bootstrap, reg.topics.reports, 2)  # announced once


async def test_a_retried_upload_with_its_idempotency_key_stores_the_file_once(
    materials_registration,
) -> None:
    reg = materials_registration
    meeting = await new_meeting(reg)
    data, other = pdf(300 * 1024), pdf(300 * 1024)
    key = {**reg.headers(), "Idempotency-Key": "upload-kl-01"}
    first = await upload(reg, meeting["id"], data, auth=key, kind="decision")
    assert first.status_code == 201, first.text
    retried = await upload(reg, meeting["id"], data, auth=key, kind="decision")
    assert retried.status_code == 200
    assert retried.json()["id"] == first.json()["id"]
    different = await upload(reg, meeting["id"], other, auth=key, kind="decision")
    assert different.status_code == 409
    assert different.json()["code"] == "idempotency_key_reused"
    # the same key for another meeting is another upload
    elsewhere = await new_meeting(reg)
    assert (await upload(reg, elsewhere["id"], data, auth=key)).status_code == 201

    db = reg.service.db
    assert await db["materials"].count_documents({"meeting_id": meeting["id"]}) == 1
    assert await db["material_chunks"].count_documents({"material_id": first.json()["id"]}) == 2
    got = await reg.http.get(
        f"/meetings/{meeting['id']}/materials/{first.json()['id']}", headers=key
    )
    assert got.content == data
    uploads = [
        e for e in (await shown(reg, meeting["id"]))["timeline"] if e["type"] == "MaterialUploaded"
    ]
    assert len(uploads) == 1


async def test_upload_after_the_meeting_is_over(materials_registration) -> None:
    reg = materials_registration
    meeting = await new_meeting(reg)
    reg.clock.advance(timedelta(days=4))  # the meeting (in 3 days, 2 hours) is over
    host = reg.headers("registrar", unit="VP-UBND")
    minutes = b"PK\x03\x04" + os.urandom(2000)
    done = await upload(reg, meeting["id"], minutes, auth=host, kind="minutes", ctype=DOCX)
    assert done.status_code == 201, done.text
    listed = await reg.http.get(f"/meetings/{meeting['id']}/materials", headers=host)
    assert [m["kind"] for m in listed.json()["items"]] == ["minutes"]


async def test_materials_of_every_meeting_for_the_it_department_filtered_and_paged(
    materials_registration,
) -> None:
    reg = materials_registration
    ours = await new_meeting(reg)  # VP-UBND hosts; STTTT and Sơn Dương take part
    health_meeting = (
        await reg.http.post(
            "/meetings",
            json=meeting_body(
                days_ahead=5, host_unit="SYT", main_endpoint="TQ-SYT", endpoints=["TQ-SYT"]
            ),
            headers=reg.headers(),
        )
    ).json()
    kinds = {ours["id"]: ["agenda", "slides", "minutes"], health_meeting["id"]: ["agenda", "other"]}
    uploaded: dict[str, list[str]] = {}
    for meeting_id, meeting_kinds in kinds.items():
        for kind in meeting_kinds:
            reg.clock.advance(timedelta(minutes=5))
            done = await upload(reg, meeting_id, pdf(500), auth=reg.headers(), kind=kind)
            uploaded.setdefault(meeting_id, []).append(done.json()["id"])
    everything = uploaded[ours["id"]] + uploaded[health_meeting["id"]]

    async def pages(auth: dict[str, str], **params: Any) -> list[str]:
        found, cursor = [], None
        while True:
            query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
            response = await reg.http.get("/materials", params=query, headers=auth)
            assert response.status_code == 200, response.text
            found += [m["id"] for m in response.json()["items"]]
            if not (cursor := response.json()["next_cursor"]):
                return found

    operator = reg.headers()
    assert await pages(operator) == everything
    assert await pages(operator, meeting=health_meeting["id"]) == uploaded[health_meeting["id"]]
    agendas = [uploaded[ours["id"]][0], uploaded[health_meeting["id"]][0]]
    assert await pages(operator, kind="agenda") == agendas
    second = (NOW + timedelta(minutes=10)).isoformat()
    fourth = (NOW + timedelta(minutes=20)).isoformat()
    assert await pages(operator, **{"from": second, "to": fourth}) == everything[1:3]
    # others see what they may read: their meetings, and those granted to them
    participant = reg.headers("registrar", unit="STTTT")
    assert await pages(participant) == uploaded[ours["id"]]
    technician = reg.headers("technician", endpoint="TQ-SYT")
    assert await pages(technician) == uploaded[health_meeting["id"]]
    health = reg.headers("registrar", unit="SYT")
    assert await pages(health) == uploaded[health_meeting["id"]]
    base = f"/meetings/{ours['id']}/access-requests"
    asked = await reg.http.post(base, json={"reason": "cần kết luận"}, headers=health)
    await reg.http.post(f"{base}/{asked.json()['id']}/grant", headers=operator)
    assert await pages(health) == everything
    assert await pages(reg.headers("viewer")) == []
    assert await pages(reg.headers("operator", tenant="lang-son")) == []
    bad = await reg.http.get("/materials", params={"cursor": "%%%"}, headers=operator)
    assert bad.status_code == 400
