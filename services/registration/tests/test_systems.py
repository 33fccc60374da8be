"""Integrating systems on the real broker and database (issue 21): an operator registers
one, the system trades its client credentials for a registrar token of its unit
(RFC 6749 §4.4), and disabling it refuses new tokens at once and old ones once the
revocation is read."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import httpx
from registration_samples import Registration, meeting_body

from hnth_kit.testing import eventually, read_topic

SYSTEM = {"name": "Hệ thống E-Office VP UBND", "unit": "VP-UBND"}


async def create(registration: Registration, **fields: str) -> httpx.Response:
    return await registration.http.post(
        "/systems", json=SYSTEM | fields, headers=registration.headers("operator")
    )


async def token(registration: Registration, **form: str) -> httpx.Response:
    return await registration.http.post(
        "/auth/token", data={"grant_type": "client_credentials"} | form
    )


def basic(client_id: str, secret: str) -> dict[str, str]:
    pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def bearer(answer: httpx.Response) -> dict[str, str]:
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def registered(registration: Registration) -> dict[str, Any]:
    created = await create(registration)
    assert created.status_code == 201, created.text
    return dict(created.json())


async def test_a_system_files_meetings_for_its_own_unit_only(registration: Registration) -> None:
    system = await registered(registration)
    assert system["client_id"].startswith("sys-tuyen-quang-he-thong-e-office-vp-")
    assert system["token_url"].endswith("/auth/token")
    assert (system["tenant"], system["unit"]) == ("tuyen-quang", "VP-UBND")

    by_body = await token(
        registration, client_id=system["client_id"], client_secret=system["client_secret"]
    )
    assert by_body.status_code == 200, by_body.text
    assert by_body.headers["Cache-Control"] == "no-store"
    assert by_body.json()["token_type"] == "Bearer"
    assert by_body.json()["expires_in"] == 15 * 60
    by_basic = await registration.http.post(
        "/auth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(system["client_id"], system["client_secret"]),
    )
    assert by_basic.status_code == 200, by_basic.text

    own = await registration.http.post("/meetings", json=meeting_body(), headers=bearer(by_basic))
    assert own.status_code == 201, own.text
    other = await registration.http.post(
        "/meetings", json=meeting_body(host_unit="SNV"), headers=bearer(by_basic)
    )
    assert other.status_code in (403, 422), other.text
    assert "registration.own_unit" in {e["rule"] for e in other.json()["errors"]}


async def test_wrong_secret_and_wrong_grant_are_answered_as_rfc_6749_says(
    registration: Registration,
) -> None:
    system = await registered(registration)
    wrong = await registration.http.post(
        "/auth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(system["client_id"], "not-the-secret"),
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")
    unknown = await token(registration, client_id="sys-tuyen-quang-x-0", client_secret="x")
    assert (unknown.status_code, unknown.json()["error"]) == (401, "invalid_client")
    grant = await token(
        registration,
        grant_type="password",
        client_id=system["client_id"],
        client_secret=system["client_secret"],
    )
    assert grant.status_code == 400
    assert grant.json()["error"] == "unsupported_grant_type"
    assert grant.json()["error_description"]
    missing = await registration.http.post("/auth/token", data={})
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")


async def test_repeated_wrong_secrets_lock_the_client_like_sign_in(
    registration: Registration,
) -> None:
    system = await registered(registration)
    for _ in range(5):
        wrong = await token(registration, client_id=system["client_id"], client_secret="x")
        assert wrong.status_code == 401
    locked = await token(
        registration, client_id=system["client_id"], client_secret=system["client_secret"]
    )
    assert locked.status_code == 429, locked.text
    assert int(locked.headers["Retry-After"]) > 0
    registration.clock.advance(timedelta(minutes=15, seconds=1))
    again = await token(
        registration, client_id=system["client_id"], client_secret=system["client_secret"]
    )
    assert again.status_code == 200, again.text


async def test_disabling_a_system_refuses_new_tokens_and_revokes_the_old(
    registration: Registration,
) -> None:
    system = await registered(registration)
    credentials = {"client_id": system["client_id"], "client_secret": system["client_secret"]}
    old = await token(registration, **credentials)
    assert (await registration.http.get("/meetings", headers=bearer(old))).status_code == 200
    registration.clock.advance(timedelta(seconds=1))  # the revocation follows the token

    disabled = await registration.http.post(
        f"/systems/{system['client_id']}/disable", headers=registration.headers("operator")
    )
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["disabled"] is True
    refused = await token(registration, **credentials)
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")
    await eventually(
        lambda: registration.http.get("/meetings", headers=bearer(old)),
        until=lambda answer: answer.status_code == 401,
    )
    messages = await read_topic(
        registration.bootstrap, registration.topics.access, expect=1, timeout=30
    )
    (event,) = [json.loads(m.value) for m in messages]
    assert (event["type"], event["reason"]) == ("TokensRevoked", "system_disabled")
    assert event["subject"] == f"system:{system['client_id']}"


async def test_only_operators_manage_systems_and_secrets_stay_hidden(
    registration: Registration,
) -> None:
    for role, claims in (("registrar", {"unit": "VP-UBND"}), ("viewer", {})):
        refused = await registration.http.post(
            "/systems", json=SYSTEM, headers=registration.headers(role, **claims)
        )
        assert refused.status_code == 403, (role, refused.text)
    system = await registered(registration)
    listed = await registration.http.get("/systems", headers=registration.headers("operator"))
    assert listed.status_code == 200
    assert [s["client_id"] for s in listed.json()] == [system["client_id"]]
    assert system["client_secret"] not in listed.text
    assert "secret" not in listed.text
    elsewhere = await registration.http.get(
        "/systems", headers=registration.headers("operator", tenant="lang-son")
    )
    assert elsewhere.json() == []


async def test_bad_systems_are_refused_naming_the_field(registration: Registration) -> None:
    await registered(registration)
    for fields, field, rule in (
        ({"name": "Lịch công tác", "unit": "KHONG-CO"}, "unit", "directory.unit_active"),
        ({"name": " hệ thống e-office  VP UBND"}, "name", "system.name_unique"),
    ):
        answer = await create(registration, **fields)
        assert answer.status_code == 422, answer.text
        assert {(e["field"], e["rule"]) for e in answer.json()["errors"]} == {(field, rule)}
