"""The meetings API as it ships, on real Kafka + the MongoDB-compatible server: body limits
per route, retries answered from what was stored, times in the province's zone, timelines
after changes and cancellations, calendar windows, roles, the token command, and which
rules a change re-checks."""

from __future__ import annotations

import asyncio
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from icalendar import Calendar
from registration_samples import NOW, meeting_body, outcomes, publish, token

from hnth_contracts import MeetingChanged, decode_event
from hnth_kit.auth import Role
from hnth_kit.http import MAX_BODY_BYTES
from hnth_kit.settings import REPO_ROOT
from hnth_kit.testing import TEST_SIGNING_KEYS, eventually, read_token, read_topic
from registration.app import RegistrationSettings, build
from registration.usecases import meetings as api

MIB = 1024 * 1024


async def stored_meetings(registration) -> int:
    """Meetings in the database: each carries its own outbox, so none stored is none sent."""
    return await registration.service.db["meetings"].count_documents({})


async def meeting(registration, meeting_id: str, **headers: str) -> dict:
    response = await registration.http.get(
        f"/meetings/{meeting_id}", headers={**registration.headers(), **headers}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def timeline_with(registration, meeting_id: str, kind: str) -> dict:
    """The meeting once an entry of `kind` is on its timeline (the consumer adds it)."""
    return await eventually(
        lambda: meeting(registration, meeting_id),
        until=lambda m: kind in [e["type"] for e in m["timeline"]],
    )


# ---------------------------------------------------------------- 1. body limits


async def test_json_routes_refuse_a_1_mib_body_with_the_shipped_limits(
    registration, register
) -> None:
    settings = registration.service.settings
    assert (settings.max_json_bytes, settings.max_body_bytes) == (MAX_BODY_BYTES, 21 * MIB)
    auth = {**registration.headers(), "Content-Type": "application/json"}
    body = meeting_body(agenda="x" * MIB)  # 1 MiB of JSON
    refused = await registration.http.post("/meetings", json=body, headers=auth)
    assert refused.status_code == 413, refused.text
    assert refused.json()["code"] == "body_too_large"
    assert "256 KiB" in refused.json()["message_en"]
    assert await stored_meetings(registration) == 0

    existing = (await register()).json()
    patched = await registration.http.patch(
        f"/meetings/{existing['id']}", json={"agenda": "x" * MIB}, headers=auth
    )
    unit = await registration.http.post(
        "/units", json={"code": "BIG", "name": "x" * MIB}, headers=auth
    )
    assert (patched.status_code, unit.status_code) == (413, 413)
    assert (await meeting(registration, existing["id"]))["revision"] == 0
    assert (await registration.http.get("/units/BIG", headers=auth)).status_code == 404

    # the materials upload alone keeps the large limit
    pdf = b"%PDF-1.7\n" + os.urandom(MIB)
    upload = await registration.http.post(
        f"/meetings/{existing['id']}/materials",
        files={"file": ("agenda.pdf", pdf, "application/pdf")},
        data={"kind": "agenda"},
        headers=registration.headers(),
    )
    assert upload.status_code == 201, upload.text
    assert upload.json()["size"] == len(pdf)


# ---------------------------------------------------------------- 2. idempotent retries


async def test_retry_after_the_lead_time_passed_returns_the_stored_meeting(
    registration, register
) -> None:
    key = {"Idempotency-Key": "giao-ban-thang-12"}
    first = await register(meeting_body(), **key)
    assert first.status_code == 201, first.text
    created = first.json()
    assigned, _, _ = outcomes(created)
    await publish(registration, assigned)
    await eventually(
        lambda: meeting(registration, created["id"]),
        until=lambda m: m["status"] == "scheduled" and len(m["timeline"]) == 2,
    )
    # The lead time passes and an endpoint is deactivated: a new registration would be
    # refused, the retry is not.
    registration.clock.advance(timedelta(days=1, hours=1))
    off = await registration.http.post(
        "/endpoints/TQ-H-SONDUONG/deactivate", headers=registration.headers()
    )
    assert off.status_code == 200
    retry = await register(meeting_body(), **key)
    assert retry.status_code == 200, retry.text
    again = retry.json()
    assert again["id"] == created["id"]
    assert again["status"] == "scheduled"
    assert [e["type"] for e in again["timeline"]] == ["MeetingRequested", "SlotAssigned"]
    assert again["slot"]["virtual_room"] == "VR-01"

    different = await register(meeting_body(title="Khác"), **key)
    assert different.status_code == 409
    assert different.json()["code"] == "idempotency_key_reused"
    fresh = await register(meeting_body(), **{"Idempotency-Key": "another"})
    assert fresh.status_code == 422  # the rules still hold for a new request
    assert await stored_meetings(registration) == 1


async def test_concurrent_retries_store_one_meeting(registration, register) -> None:
    key = {"Idempotency-Key": "double-click"}
    answers = await asyncio.gather(*(register(meeting_body(), **key) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert await stored_meetings(registration) == 1


# ---------------------------------------------------------------- 3. times


async def test_directory_times_are_shown_in_the_provinces_zone(registration) -> None:
    auth = registration.headers()
    unit = (await registration.http.get("/units/SYT", headers=auth)).json()
    assert unit["updated_at"].endswith("+07:00")
    changed = await registration.http.patch(
        "/endpoints/TQ-SYT", json={"location": "Phòng họp tầng 3"}, headers=auth
    )
    assert changed.json()["updated_at"].endswith("+07:00")
    contacts = (await registration.http.get("/contacts", headers=auth)).json()
    assert contacts["updated_at"].endswith("+07:00")


# ---------------------------------------------------------------- 5. timeline


async def test_timeline_shows_the_change_and_the_cancellation(registration, register) -> None:
    created = (await register()).json()
    registration.clock.advance(timedelta(minutes=1))  # the timeline orders by time
    new_start = NOW + timedelta(days=4)
    patched = await registration.http.patch(
        f"/meetings/{created['id']}",
        json={
            "start": new_start.isoformat(),
            "end": (new_start + timedelta(hours=1)).isoformat(),
            "endpoints": ["TQ-SYT"],
        },
        headers=registration.headers(),
    )
    assert patched.status_code == 200, patched.text
    changed = await timeline_with(registration, created["id"], "MeetingChanged")
    entry = changed["timeline"][-1]
    assert entry["type"] == "MeetingChanged"
    assert (entry["revision"], entry["endpoints"]) == (1, ["TQ-UBND", "TQ-SYT"])
    assert entry["start"] == changed["start"]
    assert entry["start"].endswith("+07:00")
    assert entry["by"] == "operator:tuyen-quang"

    registration.clock.advance(timedelta(minutes=1))
    cancelled = await registration.http.post(
        f"/meetings/{created['id']}/cancel",
        json={"reason": "Lãnh đạo đi công tác"},
        headers=registration.headers(),
    )
    assert cancelled.status_code == 200
    shown = await timeline_with(registration, created["id"], "MeetingCancelled")
    assert shown["status"] == "cancelled"
    assert [e["type"] for e in shown["timeline"]] == [
        "MeetingRequested",
        "MeetingChanged",
        "MeetingCancelled",
    ]
    assert shown["timeline"][-1]["reason"] == "Lãnh đạo đi công tác"
    assert shown["cancelled_at"].endswith("+07:00")


# ---------------------------------------------------------------- 6. calendar feeds


def feed_uids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [str(e["UID"]) for e in Calendar.from_ical(response.content).walk("VEVENT")]


async def test_calendar_keeps_the_latest_meetings_from_90_days_ago(
    registration, register, monkeypatch
) -> None:
    auth = registration.headers()
    old = (await register()).json()
    registration.clock.advance(timedelta(days=100))  # `old` was 97 days ago
    later = (await register(meeting_body(days_ahead=103))).json()
    latest = (await register(meeting_body(days_ahead=105))).json()
    feed = await registration.http.get("/calendar/units/VP-UBND.ics", headers=auth)
    assert feed_uids(feed) == [
        f"{later['id']}.tuyen-quang@hnth-ops",
        f"{latest['id']}.tuyen-quang@hnth-ops",
    ]
    assert old["id"] not in feed.text

    monkeypatch.setattr(api, "FEED_LIMIT", 1)  # a full feed keeps the newest meeting
    full = await registration.http.get("/calendar/endpoints/TQ-UBND.ics", headers=auth)
    assert feed_uids(full) == [f"{latest['id']}.tuyen-quang@hnth-ops"]


async def test_calendar_of_an_unknown_code_is_404(registration) -> None:
    auth = registration.headers()
    for path in ("/calendar/units/NOWHERE.ics", "/calendar/endpoints/TQ-NOWHERE.ics"):
        response = await registration.http.get(path, headers=auth)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"


# ---------------------------------------------------------------- 7. roles and tokens


async def test_registrar_may_not_change_or_cancel_another_units_meeting(
    registration, register
) -> None:
    created = (await register()).json()  # host unit VP-UBND
    other = registration.headers("registrar", unit="SYT")
    url = f"/meetings/{created['id']}"
    patched = await registration.http.patch(url, json={"title": "Đổi tên"}, headers=other)
    cancelled = await registration.http.post(f"{url}/cancel", headers=other)
    assert (patched.status_code, cancelled.status_code) == (403, 403)
    current = await meeting(registration, created["id"])
    assert (current["title"], current["revision"], current["status"]) == (
        created["title"],
        0,
        "requested",
    )


async def test_technician_is_refused_another_endpoints_feed(registration, register) -> None:
    await register()
    own = token("technician", endpoint="TQ-STTTT")
    mine = await registration.http.get(f"/calendar/endpoints/TQ-STTTT.ics?token={own}")
    assert len(feed_uids(mine)) == 1
    for path in ("/calendar/endpoints/TQ-UBND.ics", "/calendar/units/VP-UBND.ics"):
        refused = await registration.http.get(f"{path}?token={own}")
        assert refused.status_code == 403, path


def token_command(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HNTH_SIGNING_KEYS": TEST_SIGNING_KEYS}
    return subprocess.run(
        ["uv", "run", "--frozen", "python", "-m", "registration", "token", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_token_command_prints_one_valid_token_line() -> None:
    done = token_command("--role", "operator")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    principal = read_token(lines[0])
    assert (principal.role, principal.tenant) == (Role.OPERATOR, "tuyen-quang")


def test_token_command_refuses_a_registrar_without_a_unit() -> None:
    done = token_command("--role", "registrar")
    assert done.returncode != 0
    assert done.stdout == ""
    assert "--unit" in done.stderr


# ---------------------------------------------------------------- 8. what a change re-checks


async def test_title_change_inside_the_lead_time_is_accepted(registration, register) -> None:
    created = (await register()).json()
    registration.clock.advance(timedelta(days=1, hours=12))  # 36 h before the start
    url = f"/meetings/{created['id']}"
    renamed = await registration.http.patch(
        url, json={"title": "Giao ban trực tuyến (sửa tên)"}, headers=registration.headers()
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["revision"], renamed.json()["late_notice"]) == (1, False)
    same_time = await registration.http.patch(
        url, json={"start": created["start"], "chair": "Chủ tịch"}, headers=registration.headers()
    )
    assert same_time.status_code == 200, same_time.text
    moved = await registration.http.patch(
        url,
        json={
            "start": (NOW + timedelta(days=2)).isoformat(),
            "end": (NOW + timedelta(days=2, hours=2)).isoformat(),
        },
        headers=registration.headers(),
    )
    assert moved.status_code == 422
    assert [e["rule"] for e in moved.json()["errors"]] == ["notice.lead_time"]

    messages = await read_topic(
        registration.bootstrap, registration.topics.meetings, expect=3, timeout=30
    )
    changes = [decode_event(m.value) for m in messages][1:]
    assert all(isinstance(e, MeetingChanged) and not e.late_notice for e in changes)


async def test_empty_or_erasing_change_is_a_422_naming_the_field(registration, register) -> None:
    created = (await register()).json()
    response = await registration.http.patch(
        f"/meetings/{created['id']}",
        json={},
        headers={**registration.headers(), "Accept-Language": "en"},
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["rule"]) == ("body", "schema.empty_change")
    assert error["source"] == "OpenAPI (/docs)"
    assert error["message"].startswith("Nothing to change")

    erased = await registration.http.patch(
        f"/meetings/{created['id']}", json={"start": None}, headers=registration.headers()
    )
    assert erased.status_code == 422
    assert [e["field"] for e in erased.json()["errors"]] == ["start"]
    assert (await meeting(registration, created["id"]))["revision"] == 0


async def test_who_may_register_inside_the_lead_time_comes_from_the_policy(
    start_registration, tmp_path: Path
) -> None:
    policy = yaml.safe_load((REPO_ROOT / "policies" / "tuyen-quang.yaml").read_text("utf-8"))
    policy["rules"]["notice.urgent_override"]["value"] = "registrar"
    (tmp_path / "tuyen-quang.yaml").write_text(yaml.safe_dump(policy, allow_unicode=True))
    urgent = meeting_body(days_ahead=1, urgent_reason="Họp khẩn phòng chống lũ")
    async with start_registration(policy_dir=tmp_path) as registration:
        operator = await registration.http.post(
            "/meetings", json=urgent, headers=registration.headers()
        )
        assert operator.status_code == 422
        [error] = operator.json()["errors"]
        assert error["rule"] == "notice.urgent_override"
        assert "đơn vị chủ trì" in error["message"]
        registrar = await registration.http.post(
            "/meetings", json=urgent, headers=registration.headers("registrar", unit="VP-UBND")
        )
        assert registrar.status_code == 201, registrar.text
        assert registrar.json()["late_notice"] is True


async def test_a_move_into_the_lead_time_keeps_its_urgent_reason(registration, register) -> None:
    created = (await register(meeting_body(days_ahead=5))).json()
    sooner = NOW + timedelta(days=1)
    reason = "Họp khẩn ứng phó bão số 3"
    moved = await registration.http.patch(
        f"/meetings/{created['id']}",
        json={
            "start": sooner.isoformat(),
            "end": (sooner + timedelta(hours=2)).isoformat(),
            "urgent_reason": reason,
        },
        headers=registration.headers(),
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["late_notice"], moved.json()["urgent_reason"]) == (True, reason)
    stored = await registration.http.get(
        f"/meetings/{created['id']}", headers=registration.headers()
    )
    assert stored.json()["urgent_reason"] == reason


async def test_a_directory_change_on_an_older_version_is_a_412_and_changes_nothing(
    registration,
) -> None:
    """The console sends the version its form showed (`If-Match`): a second person's edit
    in between is not silently undone."""
    auth = registration.headers()
    path = "/endpoints/TQ-SYT"
    shown = (await registration.http.get(path, headers=auth)).json()
    first = await registration.http.patch(
        path, json={"location": "Tầng 2"}, headers={**auth, "If-Match": f'"{shown["version"]}"'}
    )
    assert first.status_code == 200, first.text
    late = await registration.http.patch(
        path, json={"location": "Tầng 3"}, headers={**auth, "If-Match": str(shown["version"])}
    )
    assert late.status_code == 412, late.text
    assert late.json()["code"] == "changed_meanwhile"
    assert (await registration.http.get(path, headers=auth)).json()["location"] == "Tầng 2"
    bad = await registration.http.patch(
        path, json={"location": "Tầng 4"}, headers={**auth, "If-Match": "*yesterday*"}
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "If-Match"


async def test_the_technical_contact_list_is_a_workbook_every_role_may_read(
    registration,
) -> None:
    """Rule 5, "known to all": every endpoint's technician and the standing contacts."""
    import io

    import openpyxl

    viewer = registration.headers("viewer")
    answer = await registration.http.get("/directory/technicians.xlsx", headers=viewer)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "danh-ba-ky-thuat-tuyen-quang.xlsx" in answer.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    technicians, standing = book.worksheets
    rows = list(technicians.iter_rows(values_only=True))
    assert rows[0][:4] == ("Mã điểm cầu", "Điểm cầu", "Đơn vị", "Cán bộ kỹ thuật")
    by_code = {r[0]: r for r in rows[1:]}
    assert len(by_code) == 28
    assert by_code["TQ-SYT"][3:6] == (
        "Phạm Minh Thắng",
        "0912480301",
        "kythuat.syt@tuyenquang.gov.vn",
    )
    assert by_code["TQ-SYT"][2].startswith("SYT · ")
    roles = [r[0] for r in standing.iter_rows(min_row=2, values_only=True)]
    assert roles[:3] == ["Sở KH&CN", "Đơn vị cung cấp đường truyền", "Công ty Điện lực"]
    english = await registration.http.get(
        "/directory/technicians.xlsx", headers={**viewer, "Accept-Language": "en"}
    )
    header = next(openpyxl.load_workbook(io.BytesIO(english.content)).worksheets[0].iter_rows())
    assert header[3].value == "Technician"
    assert (await registration.http.get("/directory/technicians.xlsx")).status_code == 401


async def test_the_technical_contact_list_is_also_a_pdf_every_role_may_read(
    registration,
) -> None:
    """Rule 5 in print: the same list as a PDF, Vietnamese letters and all, with the
    province and the time it was made; in English when the reader asks."""
    import io

    from pypdf import PdfReader

    viewer = registration.headers("technician", endpoint="TQ-SYT")
    answer = await registration.http.get("/directory/technicians.pdf", headers=viewer)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert "danh-ba-ky-thuat-tuyen-quang.pdf" in answer.headers["content-disposition"]
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(answer.content)).pages)
    assert "Danh bạ kỹ thuật · Tỉnh Tuyên Quang" in text
    assert "Cập nhật: " in text
    assert "Phạm Minh Thắng 0912480301 kythuat.syt@tuyenquang.gov.vn" in text
    assert "Đơn vị cung cấp đường truyền" in text
    assert text.count("TQ-") >= 28  # every endpoint
    english = await registration.http.get(
        "/directory/technicians.pdf", headers={**viewer, "Accept-Language": "en"}
    )
    first = PdfReader(io.BytesIO(english.content)).pages[0].extract_text()
    assert "Technical contacts" in first
    assert "technical-contacts-tuyen-quang.pdf" in english.headers["content-disposition"]
    assert (await registration.http.get("/directory/technicians.pdf")).status_code == 401


async def test_a_missing_signing_keys_file_stops_the_start_not_the_first_sign_in(
    infra, unique, tmp_path: Path
) -> None:
    """The keys file is read at start, so a missing one stops the service there; building
    it reads nothing, so `kafka-grants` and `kafka-provision` (compose's one-shot job,
    which holds no keys) run without it."""
    settings = RegistrationSettings(  # type: ignore[call-arg]
        kafka_bootstrap_servers=infra.bootstrap_servers,
        mongodb_url=infra.mongodb_url,
        database=f"registration_{unique}",
        topic_prefix=f"t{unique}.",
        signing_keys_file=tmp_path / "missing.json",
    )
    service = build(settings)
    assert f"t{unique}.hnth.meetings" in service.kafka_grants().reads
    with pytest.raises(FileNotFoundError):
        await service.start()


async def test_a_mistyped_letter_is_corrected_by_a_change(registration, register) -> None:
    """The console's change form sends the letter alone: the meeting names the new one
    and says so to everyone (a change, MeetingChanged)."""
    created = (await register(meeting_body(document_number="12/UBND"))).json()
    auth = registration.headers()
    corrected = await registration.http.patch(
        f"/meetings/{created['id']}",
        json={"document_number": "21/UBND", "document_date": "2026-11-30"},
        headers=auth,
    )
    assert corrected.status_code == 200, corrected.text
    shown = await meeting(registration, created["id"])
    assert (shown["document_number"], shown["document_date"]) == ("21/UBND", "2026-11-30")
    assert shown["revision"] == 1
