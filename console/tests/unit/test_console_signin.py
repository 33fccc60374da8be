"""Signing in over a stand-in for registration's sign-in routes: the session cookie, the
CSRF token, the one-time-code step, lockout, refresh, a service's 401, sign-out, and a
password set from an e-mailed link."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from console_fakes import (
    GOOD_OTP,
    STRONG,
    TENANT,
    FakeRegistration,
    console_over,
    csrf_of,
    fake_jwt,
    nothing_else,
    sign_in,
)

from hnth_console.session import Sealer, SessionState, person_of


@pytest.fixture
def registration() -> FakeRegistration:
    fake = FakeRegistration()
    fake.add("truc-ban")
    fake.add("lanh-dao", totp=True)
    return fake


@pytest.fixture
async def console(registration) -> AsyncIterator[httpx.AsyncClient]:
    async with console_over(registration, nothing_else) as client:
        yield client


def paths(registration: FakeRegistration) -> list[str]:
    return [r.url.path for r in registration.sent]


async def test_a_right_password_opens_a_session_kept_in_an_encrypted_httponly_cookie(
    console, registration
) -> None:
    signed = await sign_in(console, "truc-ban")
    # on to the console's first page, which sends each role on to its own
    assert (signed.status_code, signed.headers["location"]) == (303, "/")
    assert (await console.get("/")).headers["location"] == "/board"
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith("hnth_session=")
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    # no token in clear: neither the access token nor its payload (a random cookie may
    # well contain "eyJ", so the tokens themselves are looked for)
    for token in registration.access_tokens:
        assert token not in cookie
        assert token.split(".")[1] not in cookie
    board = await console.get("/board")
    assert board.status_code == 200
    assert "Chị truc-ban" in board.text  # the display name, read from the token's claims
    assert 'action="/signout"' in board.text


def test_behind_https_the_cookie_is_secure_with_the_host_prefix() -> None:
    sealer = Sealer("s", secure=True, max_age=60)
    [(_, header)] = sealer.headers(SessionState.new())
    assert header.startswith(b"__Host-hnth_session=")
    assert b"; secure" in header.lower()
    assert b"path=/" in header.lower()


def test_a_forged_or_foreign_cookie_opens_no_session() -> None:
    ours, theirs = Sealer("ours", secure=False, max_age=60), Sealer("x", secure=False, max_age=60)
    sealed = theirs.seal(SessionState.new())
    assert ours.open(sealed) is None
    assert ours.open("garbage") is None
    assert ours.open(ours.seal(SessionState(csrf="c"))) == SessionState(csrf="c")


async def test_a_wrong_password_is_said_plainly_and_five_lock_the_account(
    console, registration
) -> None:
    wrong = await sign_in(console, "truc-ban", "sai-mat-khau")
    assert wrong.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in wrong.text
    assert 'value="truc-ban"' in wrong.text  # the username stays, the password does not
    unknown = await sign_in(console, "khong-co-ai", lang="en")
    assert "The username or the password is wrong." in unknown.text
    for _ in range(4):
        await sign_in(console, "truc-ban", "sai-mat-khau")
    locked = await sign_in(console, "truc-ban")
    assert locked.status_code == 429
    assert "Tài khoản tạm khóa vì nhập sai nhiều lần. Hãy thử lại sau" in locked.text
    assert re.search(r"thử lại sau \d\d:\d\d \d\d/\d\d/\d{4}\.", locked.text)
    assert (await console.get("/board")).status_code == 303  # still signed out


async def test_a_form_without_its_csrf_token_is_refused(console) -> None:
    await sign_in(console, "truc-ban")
    data = {"notice_id": "n1", "idempotency_key": "k", "back": "/board"}
    missing = await console.post("/notices/resend", data=data)
    assert missing.status_code == 403
    assert "Biểu mẫu đã hết hạn" in missing.text
    other = await console.post("/notices/resend", data={**data, "csrf": "someone-elses"})
    assert other.status_code == 403
    no_session = await console.post(
        "/signin", data={"tenant": TENANT, "username": "truc-ban", "password": STRONG}
    )
    assert no_session.status_code == 403  # a login posted from another site: refused too


async def test_an_account_with_two_factor_asks_for_the_code_next(console, registration) -> None:
    asked = await sign_in(console, "lanh-dao")
    assert (asked.status_code, asked.headers["location"]) == (303, "/signin/otp?next=%2F")
    assert STRONG not in asked.headers["set-cookie"]
    step = await console.get("/signin/otp")
    assert 'id="otp"' in step.text
    assert 'id="password"' not in step.text
    wrong = await console.post("/signin/otp", data={"csrf": csrf_of(step), "otp": "000000"})
    assert wrong.status_code == 401
    assert "Mã xác thực không đúng" in wrong.text
    right = await console.post("/signin/otp", data={"csrf": csrf_of(wrong), "otp": GOOD_OTP})
    assert (right.status_code, right.headers["location"]) == (303, "/")
    assert (await console.get("/board")).status_code == 200
    [*_, last] = [r for r in registration.sent if r.url.path == "/auth/login"]
    assert b'"otp":"123456"' in last.content.replace(b" ", b"")


async def test_a_role_that_must_use_two_factor_is_sent_to_enrol(console, registration) -> None:
    registration.add("phai-bat", must_enrol=True)
    signed = await sign_in(console, "phai-bat")
    assert signed.headers["location"] == "/account?done=totp_required"
    page = await console.get(signed.headers["location"])
    assert "Tỉnh yêu cầu vai trò của bạn dùng xác thực hai lớp" in page.text
    assert 'id="enrol-totp"' in page.text


async def test_the_access_token_is_refreshed_a_minute_before_it_expires(
    console, registration
) -> None:
    registration.expires_in = 30  # already within the minute
    await sign_in(console, "truc-ban")
    first_refresh = next(iter(registration.refresh_tokens))
    assert (await console.get("/board")).status_code == 200
    assert paths(registration).count("/auth/refresh") == 1
    assert first_refresh not in registration.refresh_tokens  # rotated
    registration.expires_in = 900
    assert (await console.get("/board")).status_code == 200  # with the new refresh token
    assert paths(registration).count("/auth/refresh") == 2
    assert (await console.get("/board")).status_code == 200  # 15 minutes left: no refresh
    assert paths(registration).count("/auth/refresh") == 2


async def test_a_refused_refresh_of_an_expired_token_ends_the_session(
    console, registration
) -> None:
    registration.expires_in = -1
    await sign_in(console, "truc-ban")
    registration.refresh_tokens.clear()  # revoked meanwhile
    away = await console.get("/board")
    assert away.status_code == 303
    assert away.headers["location"] == "/signin?next=%2Fboard&why=session_ended"
    page = await console.get(away.headers["location"])
    assert "Phiên làm việc đã hết hạn hoặc bị thu hồi" in page.text


async def test_a_service_refusing_the_token_sends_the_person_back_to_sign_in(
    console, registration
) -> None:
    await sign_in(console, "truc-ban")
    registration.access_tokens.clear()  # e.g. the account was disabled
    away = await console.get("/account")
    assert away.status_code == 303
    assert away.headers["location"] == "/signin?next=%2Faccount&why=session_ended"
    assert 'hnth_session=""' in away.headers["set-cookie"]  # the session is gone
    assert (await console.get("/board")).status_code == 303


async def test_signing_out_ends_the_session_at_registration_too(console, registration) -> None:
    await sign_in(console, "truc-ban")
    [refresh] = registration.refresh_tokens
    board = await console.get("/board")
    out = await console.post("/signout", data={"csrf": csrf_of(board)})
    assert (out.status_code, out.headers["location"]) == (303, "/signin?why=signed_out")
    assert registration.refresh_tokens == {}
    assert refresh.encode() in registration.sent[-1].content
    assert (await console.get("/board")).status_code == 303
    page = await console.get("/signin?why=signed_out")
    assert "Bạn đã đăng xuất." in page.text


async def test_a_password_is_set_from_the_emailed_link(console) -> None:
    page = await console.get("/set-password", params={"token": "good-link"})
    # whose account the link is for, in words
    assert "hoang.thi.mai</strong> · Tỉnh Lạng Sơn" in page.text
    form = {"csrf": csrf_of(page), "token": "good-link"}
    differ = await console.post(
        "/set-password", data={**form, "password": STRONG, "confirm": STRONG + "x"}
    )
    assert differ.status_code == 422
    assert "Hai mật khẩu không giống nhau." in differ.text
    weak = await console.post("/set-password", data={**form, "password": "ngan", "confirm": "ngan"})
    assert weak.status_code == 422
    assert "Mật khẩu quá ngắn" in weak.text
    used = await console.post(
        "/set-password",
        data={**form, "token": "used-link", "password": STRONG, "confirm": STRONG},
    )
    assert used.status_code == 400
    assert "Liên kết không hợp lệ, đã dùng hoặc đã hết hạn" in used.text
    assert 'id="set-password-form"' not in used.text  # nothing to fill in again
    done = await console.post("/set-password", data={**form, "password": STRONG, "confirm": STRONG})
    # the sign-in form comes filled in with the account the link was for
    assert (done.status_code, done.headers["location"]) == (
        303,
        "/signin?why=password_set&tenant=lang-son&username=hoang.thi.mai",
    )
    signin = await console.get(done.headers["location"])
    assert '<option value="lang-son" selected>' in signin.text
    assert 'value="hoang.thi.mai"' in signin.text


async def test_the_signin_page_offers_the_provinces_in_both_languages(console) -> None:
    vi = await console.get("/signin")
    assert "Tỉnh Tuyên Quang" in vi.text
    assert 'name="tenant"' in vi.text
    assert "Mật khẩu" in vi.text
    console.cookies.set("lang", "en")
    en = await console.get("/signin")
    assert "Password" in en.text
    assert (await console.get("/login")).headers["location"] == "/signin?next=%2F"


def test_the_person_is_read_from_the_claims_without_a_secret() -> None:
    who = person_of(fake_jwt(sub="kt-1", role="technician", tenant=TENANT, endpoints=["A", "B"]))
    assert (who.subject, who.endpoints, who.endpoint, who.shown) == (
        "kt-1",
        ("A", "B"),
        "A",
        "kt-1",
    )
    old = person_of(fake_jwt(sub="kt-2", role="technician", tenant=TENANT, endpoint="A"))
    assert old.endpoints == ("A",)
    with pytest.raises(ValueError, match="JWT"):
        person_of("not-a-jwt")


async def test_a_used_or_expired_link_says_so_before_a_password_is_typed(console) -> None:
    page = await console.get("/set-password", params={"token": "used-link"})
    assert page.status_code == 400
    assert "Liên kết không hợp lệ, đã dùng hoặc đã hết hạn" in page.text
    assert 'id="set-password-form"' not in page.text
    assert 'href="/signin"' in page.text
