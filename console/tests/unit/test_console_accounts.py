"""My account (password, two-factor with a QR code), the operators' accounts page and the
audit, over a stand-in for registration."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from console_fakes import GOOD_OTP, STRONG, FakeRegistration, console_over, csrf_of, sign_in

from hnth_console.i18n import translator


def directory(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/units":
        return httpx.Response(200, json=[{"code": "VP-UBND", "name": "Văn phòng UBND"}])
    if request.url.path == "/endpoints":
        return httpx.Response(200, json=[{"code": "TQ-STTTT", "name": "Sở KH&CN"}])
    return httpx.Response(404, json={"detail": {"message": "không có"}})


@pytest.fixture
def registration() -> FakeRegistration:
    fake = FakeRegistration()
    fake.add("truc-ban")
    fake.add("can-bo", "registrar", unit="VP-UBND", email="cb@tq.gov.vn")
    fake.audit = [
        {
            "at": "2026-12-01T17:30:00Z",  # 00:30 on 2 December in Tuyên Quang
            "kind": "locked_out",
            "username": "can-bo",
            "actor": None,
            "ip": "10.0.0.7",
            "detail": {"failures": 5},
        }
    ]
    return fake


@pytest.fixture
async def console(registration) -> AsyncIterator[httpx.AsyncClient]:
    async with console_over(registration, directory) as client:
        yield client


async def post(client: httpx.AsyncClient, page: str, action: str, **data: object) -> httpx.Response:
    shown = await client.get(page)
    return await client.post(action, data={"csrf": csrf_of(shown), **data})


def last(registration: FakeRegistration) -> httpx.Request:
    return registration.sent[-1]


async def test_my_account_changes_the_password(console, registration) -> None:
    await sign_in(console, "truc-ban")
    mine = await console.get("/account")
    assert mine.status_code == 200
    assert "Chị truc-ban" in mine.text
    new = "một-mật-khẩu-mới-rất-dài"
    differ = await post(
        console, "/account", "/account/password", current=STRONG, new=new, confirm="x"
    )
    assert "Hai mật khẩu không giống nhau." in differ.text
    wrong = await post(
        console, "/account", "/account/password", current="sai", new=new, confirm=new
    )
    assert wrong.status_code == 422
    assert "Mật khẩu hiện tại không đúng." in wrong.text
    done = await post(
        console, "/account", "/account/password", current=STRONG, new=new, confirm=new
    )
    assert done.headers["location"] == "/account?done=password_changed"
    assert registration.accounts["truc-ban"].password == new
    assert "Đã đổi mật khẩu." in (await console.get(done.headers["location"])).text


async def test_two_factor_is_enrolled_with_a_qr_code_and_confirmed_with_a_code(
    console, registration
) -> None:
    await sign_in(console, "truc-ban", lang="en")
    enrol = await post(console, "/account", "/account/totp")
    assert enrol.status_code == 200
    assert '<svg width="' in enrol.text  # segno's QR code, inline
    assert "JBSWY3DPEHPK3PXP" in enrol.text  # and the secret to type by hand
    form = {"secret": "JBSWY3DPEHPK3PXP", "uri": "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP"}
    wrong = await console.post(
        "/account/totp/confirm", data={"csrf": csrf_of(enrol), "otp": "111111", **form}
    )
    assert wrong.status_code == 422
    assert "The code is wrong or too old." in wrong.text
    assert "<svg" in wrong.text  # the QR code again, to try another code
    right = await console.post(
        "/account/totp/confirm", data={"csrf": csrf_of(wrong), "otp": GOOD_OTP, **form}
    )
    assert right.headers["location"] == "/account?done=totp_enrolled"
    assert registration.accounts["truc-ban"].totp


async def test_signing_out_everywhere_revokes_the_tokens(console, registration) -> None:
    await sign_in(console, "truc-ban")
    out = await post(console, "/account", "/account/signout-everywhere")
    assert out.headers["location"] == "/signin?why=signed_out"
    assert last(registration).url.path == "/auth/logout-all"
    assert (await console.get("/board")).status_code == 303


async def test_operators_list_create_disable_and_reset_accounts(console, registration) -> None:
    await sign_in(console, "truc-ban")
    listed = await console.get("/accounts")
    assert listed.status_code == 200
    assert 'id="account-can-bo"' in listed.text
    assert 'id="disable-truc-ban"' not in listed.text  # not oneself
    assert 'value="VP-UBND"' in listed.text  # the directory's units to pick from
    made = await post(
        console,
        "/accounts",
        "/accounts",
        username="Ky-Thuat.1",
        display_name="Anh Kỹ thuật",
        role="technician",
        endpoints="TQ-STTTT",
        email="kt@tq.gov.vn",
        password="",
    )
    assert made.headers["location"] == "/accounts?done=created&who=ky-thuat.1"
    body = json.loads(last(registration).content)
    assert body["endpoints"] == ["TQ-STTTT"]
    assert "password" not in body  # none given: registration e-mails a set-password link
    again = await post(
        console, "/accounts", "/accounts", username="can-bo", display_name="x", role="viewer"
    )
    assert again.status_code == 409
    assert 'value="x"' in again.text  # the form again, as filled
    disabled = await post(console, "/accounts", "/accounts/can-bo/disable")
    assert disabled.headers["location"] == "/accounts?done=disabled&who=can-bo"
    assert not registration.accounts["can-bo"].active
    shown = await console.get(disabled.headers["location"])
    assert 'id="enable-can-bo"' in shown.text
    enabled = await post(console, "/accounts", "/accounts/can-bo/enable")
    assert registration.accounts["can-bo"].active, enabled.text
    reset = await post(console, "/accounts", "/accounts/can-bo/reset-password")
    assert reset.headers["location"] == "/accounts?done=reset_sent&who=can-bo"
    no_mail = await post(console, "/accounts", "/accounts/truc-ban/reset-password")
    assert no_mail.status_code == 422


async def test_the_audit_shows_local_times_and_passes_the_filters(console, registration) -> None:
    await sign_in(console, "truc-ban")
    page = await console.get(
        "/audit", params={"kind": "locked_out", "since": "2026-12-02", "until": "2026-12-02"}
    )
    assert page.status_code == 200
    assert "02/12/2026 00:30:00" in page.text
    assert "Tạm khóa do sai nhiều lần" in page.text
    asked = last(registration).url.params
    assert asked["kind"] == "locked_out"
    assert asked["from"] == "2026-12-02T00:00:00+07:00"
    assert asked["to"] == "2026-12-03T00:00:00+07:00"


async def test_accounts_and_audit_are_for_operators_only(console) -> None:
    await sign_in(console, "can-bo")
    for path in ("/accounts", "/audit"):
        assert (await console.get(path)).status_code == 403
    board = await console.get("/board")
    assert 'href="/accounts"' not in board.text
    assert (await console.get("/account")).status_code == 200


async def test_the_it_department_edits_an_account(console, registration) -> None:
    """A clerk moved to technician duty: role, endpoints, e-mail cleared, saved at once."""
    await sign_in(console, "truc-ban")
    listed = await console.get("/accounts")
    disable = translator("vi")("disable")
    assert 'href="/accounts/can-bo/edit"' in listed.text
    assert f'aria-label="{disable} can-bo"' in listed.text  # each row's buttons name it
    form = await console.get("/accounts/can-bo/edit")
    assert form.status_code == 200
    assert 'value="cb@tq.gov.vn"' in form.text
    assert "<title>Sửa tài khoản can-bo" in form.text
    fields = {
        "csrf": csrf_of(form),
        "display_name": "Cán bộ kỹ thuật",
        "role": "technician",
        "unit": "",
        "endpoints": ["TQ-STTTT"],
        "email": "",
        "phone": "0912 000 111",
    }
    saved = await console.post("/accounts/can-bo/edit", data=fields)
    assert (saved.status_code, saved.headers["location"]) == (
        303,
        "/accounts?done=changed&who=can-bo",
    )
    patch = last(registration)
    assert (patch.method, patch.url.path) == ("PATCH", "/accounts/can-bo")
    assert json.loads(patch.content) == {  # what changed, no more
        "display_name": "Cán bộ kỹ thuật",
        "role": "technician",
        "unit": None,
        "email": None,
        "phone": "0912 000 111",
        "endpoints": ["TQ-STTTT"],
    }
    again = await console.post("/accounts/can-bo/edit", data={**fields, "phone": "0912 000 222"})
    assert again.status_code == 303
    assert json.loads(last(registration).content) == {"phone": "0912 000 222"}
    account = registration.accounts["can-bo"]
    assert (account.role, account.endpoints, account.email) == ("technician", ["TQ-STTTT"], None)


FEEDS: list[dict[str, str]] = []


def feeds(request: httpx.Request) -> httpx.Response:
    """Registration's calendar links: made, listed, revoked, read with their secret."""
    path, method = request.url.path, request.method
    if (method, path) == ("POST", "/calendar/feeds"):
        asked = json.loads(request.content)
        row = {"id": "f1", **asked, "created_at": "2026-12-01T01:00:00Z"}
        FEEDS.append(row)
        url = "http://registration:8001/calendar/feeds/f1.ics?key=s3cret"
        return httpx.Response(201, json={**row, "url": url})
    if (method, path) == ("GET", "/calendar/feeds"):
        return httpx.Response(200, json=FEEDS)
    if (method, path) == ("DELETE", "/calendar/feeds/f1"):
        FEEDS.clear()
        return httpx.Response(204)
    if path == "/calendar/feeds/f1.ics" and request.url.params.get("key") == "s3cret" and FEEDS:
        return httpx.Response(200, text="BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                              headers={"content-type": "text/calendar; charset=utf-8"})  # fmt: skip
    return directory(request)


async def test_a_clerk_makes_a_calendar_link_for_a_phone_and_revokes_it(registration) -> None:
    FEEDS.clear()
    async with console_over(registration, feeds) as console:
        assert (await sign_in(console, "can-bo")).status_code == 303
        page = await console.get("/account")
        assert 'id="make-feed-VP-UBND"' in page.text
        form = {"csrf": csrf_of(page), "kind": "unit", "code": "VP-UBND"}
        made = await console.post("/account/feeds", data=form)
        assert made.status_code == 200, made.text
        # the console's own address (the one a phone reaches), not registration's
        assert "http://console/calendar/feeds/f1.ics?key=s3cret" in made.text
        assert 'href="webcal://console/calendar/feeds/f1.ics?key=s3cret"' in made.text
        assert 'id="feed-f1"' in made.text
        read = await console.get("/calendar/feeds/f1.ics", params={"key": "s3cret"})
        assert read.status_code == 200
        assert read.headers["content-type"].startswith("text/calendar")
        revoked = await console.post("/account/feeds/f1/revoke", data={"csrf": csrf_of(made)})
        assert (revoked.status_code, revoked.headers["location"]) == (
            303,
            "/account?done=feed_revoked",
        )
        assert 'id="feed-f1"' not in (await console.get("/account")).text
        # a calendar app following the revoked link is told so, not sent to sign in
        gone = await console.get("/calendar/feeds/f1.ics", params={"key": "s3cret"})
        assert gone.status_code == 404
        assert gone.headers["content-type"].startswith("text/plain")
