"""Meeting materials and records (rule 8) on the real broker and database: byte-exact
storage, limits from the policy, access by role and participation, access on request with
its audit trail, and the minutes asked for by ReportDue ("record missing")."""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta

from registration_samples import NOW, meeting_body, publish

from hnth_contracts import ReportDue, ReportKind, RuleRef, decode_event
from hnth_kit.testing import eventually, read_exactly, read_topic

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MIB = 1024 * 1024


def pdf(size: int) -> bytes:
    """A PDF-looking file of `size` bytes whose content is random (every byte checked)."""
    return b"%PDF-1.7\n" + os.urandom(size - 9)


async def new_meeting(reg) -> dict:
    created = await reg.http.post("/meetings", json=meeting_body(), headers=reg.headers())
    assert created.status_code == 201, created.text
    return created.json()


async def upload(
    reg, meeting_id: str, data: bytes, *, auth, kind="agenda", ctype=PDF, name="a.pdf"
):
    return await reg.http.post(
        f"/meetings/{meeting_id}/materials",
        files={"file": (name, data, ctype)},
        data={"kind": kind},
        headers=auth,
    )


async def stored_counts(reg) -> tuple[int, int]:
    db = reg.service.db
    return (
        await db["materials"].count_documents({}),
        await db["material_chunks"].count_documents({}),
    )


async def timeline(reg, meeting_id: str) -> list[dict]:
    body = (await reg.http.get(f"/meetings/{meeting_id}", headers=reg.headers())).json()
    return body["timeline"]


async def test_upload_and_download_are_byte_exact_for_host_and_participants(
    materials_registration,
) -> None:
    reg = materials_registration
    meeting = await new_meeting(reg)
    host = reg.headers("registrar", unit="VP-UBND")
    data = pdf(700 * 1024 + 3)  # several chunks, an odd tail
    name = "Kết luận giao ban.pdf"
    created = await upload(reg, meeting["id"], data, auth=host, kind="decision", name=name)
    assert created.status_code == 201, created.text
    material = created.json()
    assert material["size"] == len(data)
    assert material["sha256"] == hashlib.sha256(data).hexdigest()
    assert material["chunks"] == 3

    readers = {
        "host unit": host,
        "participating unit": reg.headers("registrar", unit="STTTT"),
        "participating endpoint": reg.headers("technician", endpoint="TQ-H-SONDUONG"),
        "IT department": reg.headers("operator"),
    }
    for who, auth in readers.items():
        url = f"/meetings/{meeting['id']}/materials"
        listed = await reg.http.get(url, headers=auth)
        assert [m["id"] for m in listed.json()["items"]] == [material["id"]], who
        got = await reg.http.get(f"{url}/{material['id']}", headers=auth)
        assert got.status_code == 200, who
        assert got.content == data, who
        assert got.headers["content-type"] == PDF
        assert got.headers["etag"] == f'"{material["sha256"]}"'
        assert "UTF-8''K%E1%BA%BFt" in got.headers["content-disposition"]

    entries = [e for e in await timeline(reg, meeting["id"]) if e["type"].startswith("Material")]
    assert [e["type"] for e in entries] == ["MaterialUploaded"] + ["MaterialDownloaded"] * 4
    assert [e["by"] for e in entries[1:]] == [
        "registrar:VP-UBND",
        "registrar:STTTT",
        "technician:TQ-H-SONDUONG",
        "operator:tuyen-quang",
    ]
    assert all(e["material_id"] == material["id"] for e in entries)


async def test_too_big_wrong_type_or_not_allowed_get_4xx_and_store_nothing(
    materials_registration,
) -> None:
    reg = materials_registration
    meeting = await new_meeting(reg)
    host = reg.headers("registrar", unit="VP-UBND")
    url = meeting["id"]

    # without a token a megabyte is not even read: the JSON routes' 256 KiB limit holds
    anonymous = await upload(reg, url, pdf(MIB), auth={})
    assert anonymous.status_code == 413, anonymous.text
    too_big = await upload(reg, url, pdf(20 * MIB + 1), auth=host)
    assert too_big.status_code == 413
    assert too_big.json()["errors"][0]["rule"] == "materials.max_bytes"
    assert "seeds/" in too_big.json()["errors"][0]["source"]

    text = await upload(reg, url, b"hello", auth=host, ctype="text/plain", name="a.txt")
    assert text.status_code == 415
    assert text.json()["errors"][0]["rule"] == "materials.types"
    disguised = await upload(reg, url, b"MZ\x90\x00 not a pdf", auth=host)
    assert disguised.status_code == 415
    bad_kind = await upload(reg, url, pdf(100), auth=host, kind="video")
    assert bad_kind.status_code == 422

    for auth in (
        reg.headers("registrar", unit="STTTT"),  # participates, but does not host
        reg.headers("technician", endpoint="TQ-STTTT"),
        reg.headers("viewer"),
    ):
        refused = await upload(reg, url, pdf(100), auth=auth)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "forbidden"
    # another province does not learn that the meeting exists
    other = await upload(reg, url, pdf(100), auth=reg.headers("operator", tenant="lang-son"))
    assert other.status_code == 404
    assert other.json()["code"] == "not_found"

    assert await stored_counts(reg) == (0, 0)
    assert not [e for e in await timeline(reg, url) if e["type"].startswith("Material")]


async def test_another_agency_asks_the_it_department_refuses_then_grants(
    materials_registration,
) -> None:
    reg = materials_registration
    meeting = await new_meeting(reg)
    base = f"/meetings/{meeting['id']}"
    data = pdf(2048)
    material = (await upload(reg, meeting["id"], data, auth=reg.headers())).json()
    health = reg.headers("registrar", unit="SYT")  # Sở Y tế: not in this meeting
    operator = reg.headers("operator")

    assert (await reg.http.get(f"{base}/materials", headers=health)).status_code == 403
    download = f"{base}/materials/{material['id']}"
    assert (await reg.http.get(download, headers=health)).status_code == 403

    why = {"reason": "Sở Y tế cần kết luận để triển khai"}
    first = await reg.http.post(f"{base}/access-requests", json=why, headers=health)
    assert first.status_code == 201, first.text
    grant_url = f"{base}/access-requests/{first.json()['id']}"
    not_operator = await reg.http.post(f"{grant_url}/grant", headers=health)
    assert not_operator.status_code == 403
    refused = await reg.http.post(
        f"{grant_url}/refuse", json={"note": "Tài liệu mật"}, headers=operator
    )
    assert refused.status_code == 200
    assert refused.json()["granted"] is False
    again = await reg.http.post(f"{grant_url}/grant", headers=operator)
    assert again.status_code == 409  # one decision per request
    assert (await reg.http.get(download, headers=health)).status_code == 403

    second = await reg.http.post(f"{base}/access-requests", json=why, headers=health)
    granted = await reg.http.post(
        f"{base}/access-requests/{second.json()['id']}/grant", headers=operator
    )
    assert granted.json()["granted"] is True
    listed = await reg.http.get(f"{base}/materials", headers=health)
    assert listed.json()["access"] == "read"
    got = await reg.http.get(download, headers=health)
    assert got.content == data
    # a grant is to the agency, not to others in the same role
    assert (
        await reg.http.get(download, headers=reg.headers("registrar", unit="SGDDT"))
    ).status_code == 403
    # those who already read ask for nothing
    has = await reg.http.post(f"{base}/access-requests", json=why, headers=health)
    assert has.status_code == 409

    requests = (await reg.http.get(f"{base}/access-requests", headers=operator)).json()
    assert [(r["kind"], r.get("granted")) for r in requests] == [
        ("request", None),
        ("decision", False),
        ("request", None),
        ("decision", True),
    ]
    trail = [
        (e["type"], e["by"])
        for e in await timeline(reg, meeting["id"])
        if e["type"].startswith("Material")
    ]
    assert trail == [
        ("MaterialUploaded", "operator:tuyen-quang"),
        ("MaterialAccessRequested", "registrar:SYT"),
        ("MaterialAccessRefused", "operator:tuyen-quang"),
        ("MaterialAccessRequested", "registrar:SYT"),
        ("MaterialAccessGranted", "operator:tuyen-quang"),
        ("MaterialDownloaded", "registrar:SYT"),
    ]


def record_due(meeting: dict) -> ReportDue:
    period = (NOW + timedelta(days=3)).date().isoformat()
    return ReportDue.create(
        tenant="tuyen-quang",
        correlation_id=meeting["id"],
        producer="scheduling",
        report_id=f"meeting_record:tuyen-quang:{meeting['id']}:{period}",
        kind=ReportKind.MEETING_RECORD,
        unit="VP-UBND",
        meeting_id=meeting["id"],
        period=period,
        due_at=NOW + timedelta(days=6),
        rule=RuleRef(rule="meeting_record.due_after", source="seeds/003"),
    )


async def test_record_missing_until_the_minutes_are_uploaded(materials_registration) -> None:
    reg = materials_registration
    late, early = await new_meeting(reg), await new_meeting(reg)
    host = reg.headers("registrar", unit="VP-UBND")
    minutes = b"PK\x03\x04" + os.urandom(5000)
    # `early` has its minutes before the request for them arrives
    uploaded = await upload(reg, early["id"], minutes, auth=host, kind="minutes", ctype=DOCX)
    assert uploaded.status_code == 201
    await publish(reg, record_due(late), record_due(early))

    async def meeting(m: dict) -> dict:
        return (await reg.http.get(f"/meetings/{m['id']}", headers=reg.headers())).json()

    waiting = await eventually(lambda: meeting(late), until=lambda b: b["record_missing"])
    assert next(e for e in waiting["timeline"] if e["type"] == "ReportDue")["unit"] == "VP-UBND"
    listed = await reg.http.get(f"/meetings/{late['id']}/materials", headers=host)
    assert listed.json()["record_missing"] is True

    # an agenda is not the minutes
    assert (await upload(reg, late["id"], pdf(300), auth=host)).status_code == 201
    assert (await meeting(late))["record_missing"] is True
    done = await upload(reg, late["id"], minutes, auth=host, kind="minutes", ctype=DOCX)
    assert done.status_code == 201
    assert (await meeting(late))["record_missing"] is False
    early_body = await eventually(
        lambda: meeting(early), until=lambda b: any(e["type"] == "ReportDue" for e in b["timeline"])
    )
    assert early_body["record_missing"] is False

    # both records are announced once each, so notification stops reminding
    messages = await read_topic(reg.bootstrap, reg.topics.reports, expect=4)
    submitted = [
        e for e in (decode_event(m.value) for m in messages) if e.type == "ReportSubmitted"
    ]
    assert sorted(e.report_id for e in submitted) == sorted(
        [record_due(late).report_id, record_due(early).report_id]
    )
    assert {e.submitted_by for e in submitted} == {"registrar:VP-UBND", "registration"}
    await read_exactly(reg.bootstrap, reg.topics.reports, 4)


def test_who_may_do_what_with_materials_is_pure_domain() -> None:
    from registration.domain import MaterialRight, Reader, material_right

    def right(reader: Reader, granted: bool = False) -> MaterialRight:
        return material_right(
            reader,
            host_unit="VP-UBND",
            endpoints=["TQ-UBND", "TQ-STTTT"],
            participating_units=["VP-UBND", "STTTT"],
            granted=granted,
        )

    assert right(Reader("operator", "op")) is MaterialRight.UPLOAD
    assert right(Reader("registrar", "r", unit="VP-UBND")) is MaterialRight.UPLOAD
    assert right(Reader("registrar", "r", unit="STTTT")) is MaterialRight.READ
    assert right(Reader("technician", "t", endpoints=("TQ-STTTT",))) is MaterialRight.READ
    assert right(Reader("technician", "t", endpoints=("TQ-SYT",))) is MaterialRight.NONE
    assert right(Reader("registrar", "r", unit="SYT")) is MaterialRight.NONE
    assert right(Reader("registrar", "r", unit="SYT"), granted=True) is MaterialRight.READ
    assert Reader("registrar", "r", unit="SYT").grantee == "unit:SYT"
    assert Reader("viewer", "v").grantee == "subject:v"


async def test_an_endpoints_room_rules_are_attached_and_read_by_everyone(
    materials_registration,
) -> None:
    """Rule 6: each endpoint posts its room rules. The IT department or the endpoint's own
    technician attaches them (a large PDF too, under the materials' file rules); every role
    reads the current version and downloads its exact bytes."""
    reg = materials_registration
    path = "/endpoints/TQ-SYT/room-rules"
    viewer = reg.headers("viewer")
    assert (await reg.http.get(path, headers=viewer)).status_code == 404  # none yet

    first = b"%PDF-1.7\n" + os.urandom(3 * 1024 * 1024)  # past the JSON routes' limit
    attached = await reg.http.post(
        path, files={"file": ("noi-quy.pdf", first, PDF)}, headers=reg.headers()
    )
    assert attached.status_code == 201, attached.text
    assert (attached.json()["endpoint"], attached.json()["size"]) == ("TQ-SYT", len(first))
    own = reg.headers("technician", endpoint="TQ-SYT")
    second = b"%PDF-1.7\nNoi quy phong hop So Y te, ban 2"
    newer = await reg.http.post(
        path, files={"file": ("Nội quy 2026.pdf", second, PDF)}, headers=own
    )
    assert newer.status_code == 201, newer.text

    shown = await reg.http.get(path, headers=viewer)
    assert (shown.json()["filename"], shown.json()["version"]) == ("Nội quy 2026.pdf", 2)
    assert shown.json()["uploaded_at"].endswith("+07:00")  # the province's time
    got = await reg.http.get(f"{path}/file", headers=viewer)
    assert (got.status_code, got.content) == (200, second)
    assert got.headers["etag"] == f'"{hashlib.sha256(second).hexdigest()}"'

    other = reg.headers("technician", endpoint="TQ-STTTT")
    refused = await reg.http.post(path, files={"file": ("x.pdf", second, PDF)}, headers=other)
    assert refused.status_code == 403
    wrong = await reg.http.post(
        path, files={"file": ("x.exe", b"MZ\x90\x00", "application/x-msdownload")},
        headers=reg.headers(),
    )  # fmt: skip
    assert wrong.status_code == 415
    assert wrong.json()["errors"][0]["rule"] == "materials.types"
    unknown = await reg.http.get("/endpoints/TQ-NOWHERE/room-rules", headers=viewer)
    assert unknown.status_code == 404
    assert (await reg.http.get(path)).status_code == 401
    assert (await reg.http.get(path, headers=viewer)).json()["filename"] == "Nội quy 2026.pdf"


async def test_a_recorded_meeting_s_recording_joins_its_materials_after_it(
    materials_registration,
) -> None:
    reg = materials_registration
    host = reg.headers("registrar", unit="VP-UBND")
    created = await reg.http.post(
        "/meetings", json=meeting_body(record=True), headers=reg.headers()
    )
    assert created.status_code == 201, created.text
    recorded = created.json()
    assert recorded["record"] is True
    plain = await new_meeting(reg)
    assert plain["record"] is False
    audio = b"ID3\x04" + os.urandom(4096)

    early = await upload(reg, recorded["id"], audio, auth=host, kind="recording",
                         ctype="audio/mpeg", name="ghi-am.mp3")  # fmt: skip
    assert early.status_code == 409, early.text
    assert early.json()["errors"][0]["rule"] == "materials.recording"

    reg.clock.advance(timedelta(days=4))  # both meetings are over
    refused = await upload(reg, plain["id"], audio, auth=host, kind="recording",
                           ctype="audio/mpeg", name="ghi-am.mp3")  # fmt: skip
    assert refused.status_code == 409, refused.text
    as_document = await upload(reg, recorded["id"], pdf(1024), auth=host, kind="recording")
    assert as_document.status_code == 415  # a recording's types are materials.recording's
    attached = await upload(reg, recorded["id"], audio, auth=host, kind="recording",
                            ctype="audio/mpeg", name="ghi-am.mp3")  # fmt: skip
    assert attached.status_code == 201, attached.text
    technician = reg.headers("technician", endpoint="TQ-H-SONDUONG")
    listed = await reg.http.get(f"/meetings/{recorded['id']}/materials", headers=technician)
    assert [m["kind"] for m in listed.json()["items"]] == ["recording"]
    fetched = await reg.http.get(
        f"/meetings/{recorded['id']}/materials/{attached.json()['id']}", headers=technician
    )
    assert fetched.content == audio
    types = [e["type"] for e in await timeline(reg, recorded["id"])]
    assert {"MaterialUploaded", "MaterialDownloaded"} <= set(types)
