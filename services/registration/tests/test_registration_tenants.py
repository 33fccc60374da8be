"""Provinces never share a meeting: a meeting is (tenant, meeting id), so two provinces'
e-office systems publishing the same id each get their own meeting and timeline, and
every document registration keeps names its province."""

from __future__ import annotations

import os
from datetime import timedelta

from registration_samples import NOW, publish

from hnth_contracts import (
    MeetingCancelled,
    MeetingChanged,
    MeetingRequested,
    ReportDue,
    ReportKind,
    RuleRef,
)
from hnth_kit.testing import eventually

SHARED_ID = "VPDT-2026-001"  # both provinces' e-office numbers its meetings the same way
START = NOW + timedelta(days=4)


def requested(tenant: str, title: str, main: str, others: tuple[str, ...]) -> MeetingRequested:
    return MeetingRequested.create(
        tenant=tenant,
        correlation_id=SHARED_ID,
        producer="e-office",
        meeting_id=SHARED_ID,
        title=title,
        host_unit="VP-UBND",
        chair="Chánh Văn phòng",
        start=START,
        end=START + timedelta(hours=1),
        main_endpoint=main,
        endpoints=(main, *others),
    )


async def test_two_provinces_publishing_the_same_external_meeting_id_never_touch_each_other(
    registration,
) -> None:
    tq = requested("tuyen-quang", "Giao ban Tuyên Quang", "TQ-UBND", ("TQ-STTTT",))
    ls = requested("lang-son", "Giao ban Lạng Sơn", "LS-UBND", ("LS-STTTT",))
    ls_changed = MeetingChanged.create(
        tenant="lang-son",
        correlation_id=SHARED_ID,
        producer="e-office",
        meeting_id=SHARED_ID,
        revision=1,
        title="Giao ban Lạng Sơn (đổi giờ)",
        host_unit="VP-UBND",
        chair="Chánh Văn phòng",
        start=START + timedelta(hours=2),
        end=START + timedelta(hours=3),
        main_endpoint="LS-UBND",
        endpoints=("LS-UBND",),
    )
    ls_cancelled = MeetingCancelled.create(
        tenant="lang-son",
        correlation_id=SHARED_ID,
        producer="e-office",
        meeting_id=SHARED_ID,
        reason="Lạng Sơn hoãn",
    )
    await publish(registration, tq, ls, ls_changed, ls_cancelled)
    http = registration.http
    tq_auth = registration.headers("operator", tenant="tuyen-quang")
    ls_auth = registration.headers("operator", tenant="lang-son")

    ls_body = (
        await eventually(
            lambda: http.get(f"/meetings/{SHARED_ID}", headers=ls_auth),
            until=lambda r: r.status_code == 200 and len(r.json()["timeline"]) == 3,
        )
    ).json()
    tq_body = (
        await eventually(
            lambda: http.get(f"/meetings/{SHARED_ID}", headers=tq_auth),
            until=lambda r: r.status_code == 200 and len(r.json()["timeline"]) == 1,
        )
    ).json()

    # Lạng Sơn's change and cancellation reached Lạng Sơn's meeting only
    assert (ls_body["tenant"], ls_body["title"], ls_body["cancelled"]) == (
        "lang-son",
        "Giao ban Lạng Sơn (đổi giờ)",
        True,
    )
    assert ls_body["endpoints"] == ["LS-UBND"]
    assert [e["type"] for e in ls_body["timeline"]] == [
        "MeetingRequested",
        "MeetingChanged",
        "MeetingCancelled",
    ]
    assert (tq_body["tenant"], tq_body["title"], tq_body["cancelled"]) == (
        "tuyen-quang",
        "Giao ban Tuyên Quang",
        False,
    )
    assert tq_body["endpoints"] == ["TQ-UBND", "TQ-STTTT"]
    assert [e["event_id"] for e in tq_body["timeline"]] == [str(tq.event_id)]
    for auth, tenant in ((tq_auth, "tuyen-quang"), (ls_auth, "lang-son")):
        listed = (await http.get("/meetings", headers=auth)).json()["items"]
        assert [(m["id"], m["tenant"]) for m in listed] == [(SHARED_ID, tenant)]

    # a redelivery of Tuyên Quang's request changes nothing on either side
    await publish(registration, tq)
    again = await http.get(f"/meetings/{SHARED_ID}", headers=tq_auth)
    assert len(again.json()["timeline"]) == 1
    db = registration.service.db
    assert await db["meetings"].count_documents({"meeting_id": SHARED_ID}) == 2


async def test_every_document_of_materials_and_records_names_its_province(
    materials_registration,
) -> None:
    reg = materials_registration
    created = await reg.http.post(
        "/meetings",
        json={
            "title": "Giao ban",
            "host_unit": "VP-UBND",
            "chair": "Chủ tịch",
            "start": (NOW + timedelta(days=3)).isoformat(),
            "end": (NOW + timedelta(days=3, hours=1)).isoformat(),
            "main_endpoint": "TQ-UBND",
            "endpoints": ["TQ-STTTT"],
        },
        headers=reg.headers(),
    )
    meeting_id = created.json()["id"]
    base = f"/meetings/{meeting_id}"
    minutes = b"%PDF-1.7\n" + os.urandom(300 * 1024)
    upload = await reg.http.post(
        f"{base}/materials",
        files={"file": ("bb.pdf", minutes, "application/pdf")},
        data={"kind": "minutes"},
        headers=reg.headers(),
    )
    assert upload.status_code == 201, upload.text
    health = reg.headers("registrar", unit="SYT")
    asked = await reg.http.post(f"{base}/access-requests", json={"reason": "x"}, headers=health)
    await reg.http.post(f"{base}/access-requests/{asked.json()['id']}/grant", headers=reg.headers())
    got = await reg.http.get(f"{base}/materials/{upload.json()['id']}", headers=health)
    assert got.content == minutes
    due = ReportDue.create(
        tenant="tuyen-quang",
        correlation_id=meeting_id,
        producer="scheduling",
        report_id=f"meeting_record:tuyen-quang:{meeting_id}",
        kind=ReportKind.MEETING_RECORD,
        unit="VP-UBND",
        meeting_id=meeting_id,
        period="2026",
        due_at=NOW + timedelta(days=6),
        rule=RuleRef(rule="meeting_record.due_after", source="seeds/003"),
    )
    await publish(reg, due)
    db = reg.service.db
    await eventually(lambda: db["record_submissions"].count_documents({}), until=lambda n: n == 1)

    for name in ("meetings", "timeline", "materials", "material_chunks", "material_access"):
        docs = await db[name].find({}, {"tenant": 1}).to_list()
        assert docs, name
        assert {d.get("tenant") for d in docs} == {"tuyen-quang"}, name
    [record] = await db["record_submissions"].find({}).to_list()
    assert (record["tenant"], record["meeting_id"]) == ("tuyen-quang", meeting_id)
    # the audit entries the documents carry name the province too
    for name in ("materials", "material_access"):
        entries = [d["audit"] for d in await db[name].find({}).to_list()]
        assert {e["tenant"] for e in entries} == {"tuyen-quang"}, name
    # another province sees neither the meeting nor its materials
    other = reg.headers("operator", tenant="lang-son")
    assert (await reg.http.get(f"{base}/materials", headers=other)).status_code == 404
    assert (await reg.http.get("/materials", headers=other)).json()["items"] == []
