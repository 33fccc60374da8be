"""Accounts and sign-in on the real broker and database: create, sign in, lock out,
disable, rotate refresh tokens, reset by the mailed link, list the audit, TOTP."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pyotp
from registration_samples import TENANT, Registration, meeting_body

from hnth_kit.testing import eventually, read_topic

PASSWORD = "dung-quen-mat-khau-2026"


async def create(registration: Registration, **fields: Any) -> httpx.Response:
    body = {"username": "nguyen.van.a", "display_name": "Nguyễn Văn A", "role": "operator"}
    return await registration.http.post(
        "/accounts", json=body | fields, headers=registration.headers("operator")
    )


async def login(registration: Registration, **fields: Any) -> httpx.Response:
    body = {"tenant": TENANT, "username": "nguyen.van.a", "password": PASSWORD}
    return await registration.http.post("/auth/login", json=body | fields)


def bearer(answer: httpx.Response) -> dict[str, str]:
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def access_events(registration: Registration, expect: int) -> list[dict[str, Any]]:
    messages = await read_topic(
        registration.bootstrap, registration.topics.access, expect=expect, timeout=30
    )
    return [json.loads(m.value) for m in messages]


async def test_an_account_signs_in_and_its_token_works(registration: Registration) -> None:
    created = await create(registration, password=PASSWORD, email="a@tuyenquang.gov.vn")
    assert created.status_code == 201, created.text
    assert "password_hash" not in created.json()
    assert created.json()["active"] is True
    assert (await create(registration, password=PASSWORD)).json()["code"] == "account_exists"

    signed_in = await login(registration)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["token_type"] == "bearer"
    assert signed_in.json()["expires_in"] == 15 * 60
    me = await registration.http.get("/accounts/me", headers=bearer(signed_in))
    assert me.json()["username"] == "nguyen.van.a"
    meetings = await registration.http.get("/meetings", headers=bearer(signed_in))
    assert meetings.status_code == 200


async def test_a_meetings_timeline_names_its_people_by_their_full_names(
    registration: Registration,
) -> None:
    """A page names people, not logins: whoever reads the meeting gets the names of the
    accounts its timeline names (a system or a token with no account keeps its id)."""
    assert (await create(registration, password=PASSWORD)).status_code == 201
    signed_in = await login(registration)
    registered = await registration.http.post(
        "/meetings", json=meeting_body(), headers=bearer(signed_in)
    )
    assert registered.status_code == 201, registered.text
    meeting = await eventually(
        lambda: registration.http.get(
            f"/meetings/{registered.json()['id']}", headers=registration.headers("viewer")
        ),
        until=lambda answer: answer.json().get("timeline"),
    )
    [requested] = meeting.json()["timeline"]
    assert requested["by"] == "nguyen.van.a"
    assert meeting.json()["people"] == {"nguyen.van.a": "Nguyễn Văn A"}


async def test_a_weak_password_is_refused_naming_the_rule(registration: Registration) -> None:
    for password, rule in (
        ("short", "password.min_length"),
        ("nguyen.van.a-2026!", "password.contains_username"),
        ("Q1w2e3r4t5y6", "password.common"),
    ):
        answer = await create(registration, password=password)
        assert answer.status_code == 422, answer.text
        rules = [e["rule"] for e in answer.json()["errors"] if e["field"] == "password"]
        assert rule in rules


async def test_unknown_user_wrong_password_and_disabled_get_the_same_401(
    registration: Registration,
) -> None:
    await create(registration, password=PASSWORD)
    unknown = await login(registration, username="khong.co")
    wrong = await login(registration, password="sai-mat-khau-roi-nhe")
    await registration.http.post(
        "/accounts/nguyen.van.a/disable", headers=registration.headers("operator")
    )
    disabled = await login(registration)
    assert unknown.status_code == wrong.status_code == disabled.status_code == 401
    assert unknown.json() == wrong.json() == disabled.json()
    assert unknown.json()["code"] == "invalid_credentials"


async def test_five_failures_lock_the_account_with_retry_after(
    registration: Registration,
) -> None:
    await create(registration, password=PASSWORD)
    for _ in range(5):
        assert (await login(registration, password="sai-mat-khau-roi-nhe")).status_code == 401
    locked = await login(registration)  # even the right password
    assert locked.status_code == 429, locked.text
    assert locked.json()["code"] == "locked_out"
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    registration.clock.advance(timedelta(minutes=15, seconds=1))
    assert (await login(registration)).status_code == 200
    audit = await registration.http.get(
        "/audit", params={"kind": "locked_out"}, headers=registration.headers("operator")
    )
    assert [row["username"] for row in audit.json()] == ["nguyen.van.a"]


async def test_disabling_an_account_ends_its_sessions_and_publishes_tokens_revoked(
    registration: Registration,
) -> None:
    await create(registration, password=PASSWORD)
    session = (await login(registration)).json()
    await registration.http.post(
        "/accounts/nguyen.van.a/disable", headers=registration.headers("operator")
    )
    refreshed = await registration.http.post(
        "/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert refreshed.status_code == 401
    assert refreshed.json()["code"] == "invalid_refresh"
    (event,) = await access_events(registration, 1)
    assert event["type"] == "TokensRevoked"
    assert event["reason"] == "disabled"
    assert event["subject"] == "nguyen.van.a"


async def test_a_changed_unit_ends_the_sessions_and_calendar_links_of_the_old_one(
    registration: Registration,
) -> None:
    """A clerk moved to another unit keeps nothing that reads the old unit: the tokens
    and the calendar link made before carry the old rights. A new phone number alone
    changes no rights and ends nothing."""
    await create(registration, password=PASSWORD, role="registrar", unit="VP-UBND")
    operator = registration.headers("operator")
    session = (await login(registration)).json()
    made = await registration.http.post(
        "/calendar/feeds",
        json={"kind": "unit", "code": "VP-UBND"},
        headers={"Authorization": f"Bearer {session['access_token']}"},
    )
    assert made.status_code == 201, made.text
    parts = urlparse(made.json()["url"])
    link = f"{parts.path}?{parts.query}"
    assert (await registration.http.get(link)).status_code == 200
    registration.clock.advance(timedelta(seconds=1))  # the change comes after the link

    phone = await registration.http.patch(
        "/accounts/nguyen.van.a", json={"phone": "0912345678"}, headers=operator
    )
    assert phone.status_code == 200, phone.text
    moved = await registration.http.patch(
        "/accounts/nguyen.van.a", json={"unit": "SYT"}, headers=operator
    )
    assert moved.status_code == 200, moved.text
    (event,) = await access_events(registration, 1)  # one: the phone number ended nothing
    assert (event["type"], event["reason"]) == ("TokensRevoked", "rights_changed")
    refreshed = await registration.http.post(
        "/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert refreshed.status_code == 401
    await eventually(lambda: registration.http.get(link), until=lambda r: r.status_code == 404)
    again = (await login(registration)).json()  # a new sign-in reads the new unit
    assert again["access_token"] != session["access_token"]


async def test_a_refresh_token_rotates_and_its_reuse_ends_the_session(
    registration: Registration,
) -> None:
    await create(registration, password=PASSWORD)
    first = (await login(registration)).json()["refresh_token"]
    second = await registration.http.post("/auth/refresh", json={"refresh_token": first})
    assert second.status_code == 200, second.text
    third = second.json()["refresh_token"]
    reused = await registration.http.post("/auth/refresh", json={"refresh_token": first})
    assert reused.status_code == 401
    # the leaked token's family is over: the newest token is refused too
    after = await registration.http.post("/auth/refresh", json={"refresh_token": third})
    assert after.status_code == 401


async def test_an_invited_person_sets_a_password_by_the_link_once(
    registration: Registration,
) -> None:
    created = await create(registration, email="a@tuyenquang.gov.vn")
    assert created.status_code == 201, created.text
    assert created.json()["password_set"] is False
    (event,) = await access_events(registration, 1)
    assert event["type"] == "AccessLinkIssued"
    assert event["purpose"] == "invite"
    token = parse_qs(urlparse(event["link"]).query)["token"][0]
    check = await registration.http.post("/auth/set-password/check", json={"token": token})
    assert check.json() == {"tenant": "tuyen-quang", "username": "nguyen.van.a"}  # whose
    weak = await registration.http.post(
        "/auth/set-password", json={"token": token, "password": "short"}
    )
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["field"] == "password"
    body = {"token": token, "password": PASSWORD}
    done = await registration.http.post("/auth/set-password", json=body)
    assert done.status_code == 200
    assert done.json() == {"tenant": "tuyen-quang", "username": "nguyen.van.a"}  # to sign in
    again = await registration.http.post("/auth/set-password", json=body)
    assert again.status_code == 400
    assert again.json()["code"] == "invalid_link"
    used = await registration.http.post("/auth/set-password/check", json={"token": token})
    assert used.status_code == 400, used.text
    assert used.json()["code"] == "invalid_link"
    assert (await login(registration)).status_code == 200


async def test_a_reset_revokes_tokens_and_mails_a_working_link(
    registration: Registration,
) -> None:
    await create(registration, password=PASSWORD, email="a@tuyenquang.gov.vn")
    old = (await login(registration)).json()["refresh_token"]
    reset = await registration.http.post(
        "/accounts/nguyen.van.a/reset-password", headers=registration.headers("operator")
    )
    assert reset.status_code == 200, reset.text
    assert (await login(registration)).status_code == 401  # the old password is gone
    refreshed = await registration.http.post("/auth/refresh", json={"refresh_token": old})
    assert refreshed.status_code == 401
    events = await access_events(registration, 2)
    assert {e["type"] for e in events} == {"TokensRevoked", "AccessLinkIssued"}
    link = next(e for e in events if e["type"] == "AccessLinkIssued")["link"]
    token = parse_qs(urlparse(link).query)["token"][0]
    new = "mat-khau-moi-that-dai-2027"
    body = {"token": token, "password": new}
    assert (await registration.http.post("/auth/set-password", json=body)).status_code == 200
    assert (await login(registration, password=new)).status_code == 200


async def test_another_provinces_operator_sees_no_account(registration: Registration) -> None:
    await create(registration, password=PASSWORD)
    other = registration.headers("operator", tenant="lang-son")
    found = await registration.http.get("/accounts/nguyen.van.a", headers=other)
    assert found.status_code == 404
    assert (await registration.http.get("/accounts", headers=other)).json() == []
    mine = await registration.http.get("/accounts", headers=registration.headers("operator"))
    assert [a["username"] for a in mine.json()] == ["nguyen.van.a"]


async def test_a_registrar_needs_a_unit_of_the_directory(registration: Registration) -> None:
    answer = await create(registration, role="registrar", password=PASSWORD)
    assert answer.status_code == 422
    answer = await create(registration, role="registrar", unit="NO-SUCH", password=PASSWORD)
    assert [e["rule"] for e in answer.json()["errors"]] == ["directory.unit_active"]
    answer = await create(registration, role="registrar", unit="VP-UBND", password=PASSWORD)
    assert answer.status_code == 201, answer.text


async def test_the_audit_lists_sign_ins_and_changes(registration: Registration) -> None:
    await create(registration, password=PASSWORD)
    await login(registration, password="sai-mat-khau-roi-nhe")
    await login(registration)

    async def kinds() -> list[str]:
        answer = await registration.http.get("/audit", headers=registration.headers("operator"))
        return sorted(row["kind"] for row in answer.json())

    found = await eventually(kinds, until=lambda k: len(k) == 3)
    assert found == ["account_created", "login", "login_failed"]


async def test_totp_enrolled_sign_in_needs_a_code(registration: Registration) -> None:
    await create(registration, password=PASSWORD)
    session = await login(registration)
    enrolment = await registration.http.post("/accounts/me/totp", headers=bearer(session))
    secret = enrolment.json()["secret"]
    assert enrolment.json()["otpauth_uri"].startswith("otpauth://totp/")
    code = pyotp.TOTP(secret).at(registration.clock.now())
    confirmed = await registration.http.post(
        "/accounts/me/totp/confirm", json={"otp": code}, headers=bearer(session)
    )
    assert confirmed.status_code == 204, confirmed.text
    without = await login(registration)
    assert without.status_code == 401
    assert without.json()["code"] == "otp_required"
    assert (await login(registration, otp=code)).status_code == 200
