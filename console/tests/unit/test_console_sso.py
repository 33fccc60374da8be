"""Signing in with the province's account over stand-ins for registration and for the
province's OpenID provider: the redirect with PKCE, state and nonce, the callback, the
session, and the plain-words pages when it does not work."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from console_fakes import TENANT, FakeRegistration, console_over, fake_jwt, nothing_else

from hnth_console.sso import Sso, client_secret, secret_name

ISSUER = "https://sso.tuyenquang.gov.vn/"
CLIENT = "hnth-ops"
SECRET = "client-secret-from-the-environment"


@dataclass
class FakeProvider:
    """The province's OpenID provider: discovery, and a token endpoint that checks the
    client secret and the PKCE verifier; `authorize` plays the person signing in there."""

    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    exchanged: list[dict[str, list[str]]] = field(default_factory=list)
    nonce: str | None = None
    """Another nonce than the one asked for (an id_token meant for another sign-in)."""

    def authorize(self, url: str, email: str) -> str:
        """The person signs in at the provider: the callback URL it sends them back to."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert query["response_type"] == "code"
        assert query["code_challenge_method"] == "S256"
        assert query["client_id"] == CLIENT
        code = secrets.token_urlsafe(8)
        self.codes[code] = {**query, "email": email}
        return f"{query['redirect_uri']}?code={code}&state={query['state']}"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": ISSUER,
                    "authorization_endpoint": ISSUER + "authorize",
                    "token_endpoint": ISSUER + "oauth/token",
                },
            )
        assert request.url.path == "/oauth/token"
        basic = base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {basic}":
            return httpx.Response(401, json={"error": "invalid_client"})
        form = parse_qs(request.content.decode())
        self.exchanged.append(form)
        asked = self.codes.pop(form["code"][0], None)
        verifier = form.get("code_verifier", [""])[0].encode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        if asked is None or challenge.decode() != asked["code_challenge"]:
            return httpx.Response(400, json={"error": "invalid_grant"})
        id_token = fake_jwt(
            iss=ISSUER, aud=CLIENT, email=asked["email"], nonce=self.nonce or asked["nonce"]
        )
        return httpx.Response(
            200, json={"access_token": "at", "token_type": "Bearer", "id_token": id_token}
        )


@pytest.fixture
def registration() -> FakeRegistration:
    fake = FakeRegistration(sso={TENANT: {"issuer": ISSUER, "client_id": CLIENT}})
    fake.add("truc-ban", email="an.nguyen@tuyenquang.gov.vn")
    return fake


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
async def console(registration, provider) -> AsyncIterator[httpx.AsyncClient]:
    sso = Sso({secret_name(TENANT): SECRET}, transport=httpx.MockTransport(provider))
    async with console_over(registration, nothing_else, sso) as client:
        yield client


async def through_provider(
    console: httpx.AsyncClient, provider: FakeProvider, email: str, next: str = "/board"
) -> httpx.Response:
    off = await console.get(f"/signin/sso/{TENANT}", params={"next": next})
    assert off.status_code == 303, off.text
    assert off.headers["location"].startswith(ISSUER + "authorize?")
    back = provider.authorize(off.headers["location"], email)
    assert back.startswith("http://console/signin/sso/callback?")
    return await console.get(back)


def test_the_client_secret_comes_from_the_province_s_variable_else_the_shared_one() -> None:
    assert secret_name("thua-thien-hue") == "HNTH_SSO_CLIENT_SECRET_THUA_THIEN_HUE"
    both = {"HNTH_SSO_CLIENT_SECRET": "all", "HNTH_SSO_CLIENT_SECRET_LANG_SON": "ls"}
    assert client_secret("lang-son", both) == "ls"
    assert client_secret("tuyen-quang", both) == "all"
    assert client_secret("tuyen-quang", {}) is None


async def test_the_signin_page_offers_the_province_s_account_only_where_it_has_sso(
    console, registration
) -> None:
    page = await console.get("/signin")
    assert f'id="sso-{TENANT}"' in page.text
    assert "Đăng nhập bằng tài khoản của tỉnh" in page.text
    assert 'id="sso-lang-son"' not in page.text
    registration.sso.clear()
    async with console_over(registration, nothing_else, Sso({})) as plain:
        assert "sso-" not in (await plain.get("/signin")).text


async def test_a_known_person_comes_back_from_the_provider_signed_in(
    console, provider, registration
) -> None:
    signed = await through_provider(console, provider, "an.nguyen@tuyenquang.gov.vn", "/schedule")
    assert (signed.status_code, signed.headers["location"]) == (303, "/schedule")
    assert "hnth_session=" in signed.headers["set-cookie"]
    (exchange,) = provider.exchanged
    assert exchange["grant_type"] == ["authorization_code"]
    assert exchange["code_verifier"]  # PKCE
    sent = [r for r in registration.sent if r.url.path == "/auth/sso"]
    assert len(sent) == 1
    board = await console.get("/board")
    assert board.status_code == 200
    assert "truc-ban" in board.text


async def test_a_person_registration_does_not_know_reads_so_in_plain_words(
    console, provider
) -> None:
    page = await through_provider(console, provider, "stranger@example.org")
    assert page.status_code == 403
    assert "chưa gắn với tài khoản HNTH Ops" in page.text
    assert "Traceback" not in page.text
    assert (await console.get("/board", follow_redirects=False)).status_code == 303
    console.cookies.set("lang", "en")
    page = await through_provider(console, provider, "stranger@example.org")
    assert "belongs to no HNTH Ops account" in page.text


async def test_a_callback_with_another_state_or_none_waiting_signs_nobody_in(
    console, provider
) -> None:
    off = await console.get(f"/signin/sso/{TENANT}")
    back = provider.authorize(off.headers["location"], "an.nguyen@tuyenquang.gov.vn")
    forged = back.split("&state=")[0] + "&state=another"
    refused = await console.get(forged)
    assert refused.status_code == 303
    assert "why=session_ended" in refused.headers["location"]
    assert (await console.get(back)).status_code == 303  # the right one still works once
    console.cookies.clear()
    again = await console.get(back)
    assert "why=session_ended" in again.headers["location"]


async def test_a_refusal_at_the_provider_or_a_missing_secret_is_a_page_not_a_crash(
    console, registration, provider
) -> None:
    off = await console.get(f"/signin/sso/{TENANT}")
    state = parse_qs(urlsplit(off.headers["location"]).query)["state"][0]
    cancelled = await console.get(
        "/signin/sso/callback", params={"error": "access_denied", "state": state}
    )
    assert cancelled.status_code == 401
    assert "đã hủy hoặc bị từ chối" in cancelled.text
    nowhere = await console.get("/signin/sso/lang-son")
    assert nowhere.status_code == 404
    async with console_over(
        registration, nothing_else, Sso({}, transport=httpx.MockTransport(provider))
    ) as unset:
        page = await unset.get(f"/signin/sso/{TENANT}")
        assert page.status_code == 503
        assert "không trả lời" in page.text


async def test_an_id_token_with_another_nonce_signs_nobody_in(console, provider) -> None:
    provider.nonce = "a-nonce-of-another-sign-in"
    page = await through_provider(console, provider, "an.nguyen@tuyenquang.gov.vn")
    assert page.status_code == 401
    assert (await console.get("/board", follow_redirects=False)).status_code == 303
