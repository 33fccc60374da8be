"""Data written before meetings were keyed by (tenant, id) is still there after the upgrade:
the meeting, its timeline, its idempotency key and its files (old chunk keys)."""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import timedelta

from registration_samples import NOW, meeting_body

from hnth_kit.mongo import connect
from registration import migrations
from registration.migrations import PENDING_KEY
from registration.store import Upgrades


async def test_meetings_and_materials_of_the_earlier_layout_are_kept(
    infra, unique, restartable
) -> None:
    client = connect(infra.mongodb_url)
    db = client[f"registration_{unique}"]
    start = NOW + timedelta(days=3)
    data = b"%PDF-1.7\n" + os.urandom(300 * 1024)
    body = meeting_body()
    meeting = {
        "_id": "mtg-old1",
        "tenant": "tuyen-quang",
        "source": "registration",
        "revision": 0,
        "cancelled": False,
        "registered_at": NOW,
        "registered_by": "operator:tuyen-quang",
        "title": "Họp ghi theo cách cũ",
        "host_unit": "VP-UBND",
        "chair": "Chủ tịch",
        "start": start,
        "end": start + timedelta(hours=2),
        "main_endpoint": "TQ-UBND",
        "endpoints": ["TQ-UBND", "TQ-STTTT"],
        "idempotency_key": "tuyen-quang:operator:tuyen-quang:old-key",
        "request_hash": "hash-of-the-old-body",
        "_applied": [str(uuid.uuid4())],
    }
    at = NOW - timedelta(hours=1)
    await Upgrades(db).seed_earlier_layout(
        meetings=[meeting],
        timeline=[
            {"_id": str(uuid.uuid4()), "meeting_id": "mtg-old1", "type": "MeetingRequested"}
            | {"at": at, "by": "operator:tuyen-quang"},
            {"_id": "audit-old", "meeting_id": "mtg-old1", "type": "MaterialUploaded"}
            | {"at": at, "material_id": "mat-old", "material_kind": "agenda"},
        ],
        materials=[
            {"_id": "mat-old", "tenant": "tuyen-quang", "meeting_id": "mtg-old1", "kind": "agenda"}
            | {"filename": "cu.pdf", "content_type": "application/pdf", "uploaded_at": at}
            | {"uploaded_by": "operator:tuyen-quang", "size": len(data), "chunks": 2}
            | {"sha256": hashlib.sha256(data).hexdigest()}
        ],
        chunks=[
            {"_id": f"mat-old:{n:06d}", "material_id": "mat-old", "n": n, "data": piece}
            for n, piece in enumerate((data[: 255 * 1024], data[255 * 1024 :]))
        ],
    )

    for _ in range(2):  # the second start finds the work done
        async with restartable() as reg:
            shown = await reg.http.get("/meetings/mtg-old1", headers=reg.headers())
            assert shown.status_code == 200, shown.text
            assert shown.json()["title"] == "Họp ghi theo cách cũ"
            assert [e["type"] for e in shown.json()["timeline"]][:2] == [
                "MeetingRequested",
                "MaterialUploaded",
            ]
            got = await reg.http.get("/meetings/mtg-old1/materials/mat-old", headers=reg.headers())
            assert got.content == data
            listed = (await reg.http.get("/meetings", headers=reg.headers())).json()["items"]
            assert [m["id"] for m in listed] == ["mtg-old1"]
            reused = await reg.http.post(
                "/meetings", json=body, headers={**reg.headers(), "Idempotency-Key": "old-key"}
            )
            assert reused.json()["code"] == "idempotency_key_reused"

    for name in ("meetings", "timeline", "materials", "material_chunks"):
        lacking = await db[name].count_documents({"tenant": {"$exists": False}})
        assert lacking == 0, name
    assert await db["meetings"].count_documents({}) == 1
    await client.close()


async def test_a_migration_cut_between_copy_and_delete_keeps_the_idempotency_key(
    infra, unique
) -> None:
    """The crash this step is built for: the copy is in, the original not yet deleted."""
    client = connect(infra.mongodb_url)
    db = client[f"registration_{unique}"]
    key = "tuyen-quang:operator:tuyen-quang:k1"
    legacy = {"_id": "mtg-old2", "tenant": "tuyen-quang", "title": "Họp cũ"}
    try:
        upgrades = Upgrades(db)
        await upgrades.seed_earlier_layout(
            meetings=[
                {**legacy, "idempotency_key": key},
                {
                    **legacy,
                    "_id": "tuyen-quang|mtg-old2",
                    "meeting_id": "mtg-old2",
                    PENDING_KEY: key,
                },
            ]
        )
        await migrations.tenant_keys(upgrades)
        stored = [m async for m in db["meetings"].find({})]
        assert [(m["_id"], m.get("idempotency_key")) for m in stored] == [
            ("tuyen-quang|mtg-old2", key)
        ]
        assert PENDING_KEY not in stored[0]
    finally:
        await client.drop_database(db.name)
        await client.close()


async def test_district_units_of_the_earlier_map_are_migrated_not_wiped(
    infra, unique, restartable
) -> None:
    """Since 1 July 2025 there is no district level (issue 18): a stored district unit
    becomes an inactive unit of kind `other`, its endpoints inactive, each announced; a past
    meeting still shows them; the province gets its commune-level units from its file."""
    client = connect(infra.mongodb_url)
    db = client[f"registration_{unique}"]
    stored = {"tenant": "lang-son", "version": 1, "updated_at": NOW, "active": True}
    await db["units"].insert_many(
        [
            {"_id": "lang-son:H-DINHLAP", "code": "H-DINHLAP", "name": "UBND huyện Đình Lập"}
            | {"kind": "district", "contact": None}
            | stored,
            {"_id": "lang-son:VP-UBND", "code": "VP-UBND", "name": "Văn phòng UBND tỉnh"}
            | {"kind": "committee", "contact": None}
            | stored,
        ]
    )
    await db["endpoints"].insert_one(
        {"_id": "lang-son:LS-H-DINHLAP", "code": "LS-H-DINHLAP", "name": "Điểm cầu Đình Lập"}
        | {"unit": "H-DINHLAP", "kind": "room", "location": None, "technician": None}
        | stored
    )
    start = NOW - timedelta(days=30)
    await db["meetings"].insert_one(
        {"_id": "lang-son|mtg-past", "meeting_id": "mtg-past", "tenant": "lang-son"}
        | {"source": "registration", "revision": 0, "cancelled": False, "registered_at": start}
        | {"title": "Giao ban tháng 6/2025", "host_unit": "VP-UBND", "chair": "Chủ tịch"}
        | {"start": start, "end": start + timedelta(hours=2), "main_endpoint": "LS-UBND"}
        | {"endpoints": ["LS-UBND", "LS-H-DINHLAP"], "late_notice": False}
    )
    try:
        for _ in range(2):  # the second start finds the work done
            async with restartable() as reg:
                ls = reg.headers("operator", tenant="lang-son")
                unit = (await reg.http.get("/units/H-DINHLAP", headers=ls)).json()
                assert (unit["kind"], unit["active"], unit["former_kind"]) == (
                    "other",
                    False,
                    "district",
                )
                room = (await reg.http.get("/endpoints/LS-H-DINHLAP", headers=ls)).json()
                assert room["active"] is False
                past = await reg.http.get("/meetings/mtg-past", headers=ls)
                assert past.status_code == 200, past.text
                assert past.json()["endpoints"] == ["LS-UBND", "LS-H-DINHLAP"]
                communes = (await reg.http.get("/units", headers=ls)).json()
                kinds = [u["kind"] for u in communes]
                assert (kinds.count("commune"), kinds.count("ward")) == (61, 4)
                assert "district" not in kinds
        assert await db["units"].count_documents({"tenant": "lang-son", "version": 2}) == 1
    finally:
        await client.close()
