"""A stand-in for registration's sign-in and accounts routes, as the contract describes
them (issue 16), and a console in front of it: no process, no Kafka, no database.

Tokens are JWTs whose signature nobody checks here (the console never verifies one)."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr

from hnth_console.app import build
from hnth_console.backends import Backends
from hnth_console.settings import ConsoleSettings
from hnth_console.sso import Sso

TENANT = "tuyen-quang"
GOOD_OTP = "123456"
STRONG = "một-mật-khẩu-dài-và-khó-đoán"
Handler = Callable[[httpx.Request], httpx.Response]


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def fake_jwt(**claims: Any) -> str:
    """A JWT with these claims and a signature nobody checks."""
    return f"{_b64({'alg': 'EdDSA', 'typ': 'JWT'})}.{_b64(claims)}.c2lnbmF0dXJl"


@dataclass
class Account:
    username: str
    password: str
    role: str
    display_name: str = ""
    unit: str | None = None
    endpoints: list[str] = field(default_factory=list)
    email: str | None = None
    phone: str | None = None
    active: bool = True
    totp: bool = False
    must_enrol: bool = False

    def body(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "unit": self.unit,
            "endpoints": self.endpoints,
            "email": self.email,
            "phone": self.phone,
            "language": "vi",
            "active": self.active,
            "totp": self.totp,
            "created_at": "2026-12-01T01:00:00Z",
            "updated_at": "2026-12-01T01:00:00Z",
        }


@dataclass
class FakeRegistration:
    """Registration's `/auth/*`, `/accounts*` and `/audit`, in memory."""

    expires_in: int = 900
    accounts: dict[str, Account] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    """live refresh token -> username"""
    failures: dict[str, int] = field(default_factory=dict)
    access_tokens: dict[str, str] = field(default_factory=dict)
    """live access token -> username (a revoked one answers 401)"""
    sent: list[httpx.Request] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    issued: int = 0
    sso: dict[str, dict[str, str]] = field(default_factory=dict)
    """tenant -> {issuer, client_id}: the provinces signing in through their provider"""

    def add(self, username: str, role: str = "operator", **extra: Any) -> Account:
        account = Account(username, STRONG, role, display_name=f"Chị {username}", **extra)
        self.accounts[username] = account
        return account

    def tokens(self, account: Account) -> dict[str, Any]:
        self.issued += 1
        now = int(time.time())
        access = fake_jwt(
            iss="hnth-ops",
            sub=account.username,
            tenant=TENANT,
            role=account.role,
            unit=account.unit,
            endpoints=account.endpoints,
            name=account.display_name,
            iat=now,
            exp=now + self.expires_in,
            jti=str(self.issued),
        )
        refresh = f"refresh-{self.issued}"
        self.refresh_tokens[refresh] = account.username
        self.access_tokens[access] = account.username
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.expires_in,
            "refresh_token": refresh,
            "refresh_expires_in": 8 * 3600,
        }

    def caller(self, request: httpx.Request) -> Account | None:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        name = self.access_tokens.get(token)
        return self.accounts.get(name) if name else None

    def __call__(self, request: httpx.Request) -> httpx.Response | None:
        """The answer to a request for registration's sign-in routes, else None."""
        path, method = request.url.path, request.method
        is_json = request.headers.get("content-type", "").startswith("application/json")
        body = json.loads(request.content) if request.content and is_json else {}
        if path.startswith("/auth/") or path.startswith("/accounts") or path == "/audit":
            self.sent.append(request)
        if (method, path) == ("POST", "/auth/login"):
            return self.login(body)
        if (method, path) == ("GET", "/auth/sso/providers"):
            found = [{"tenant": t, **p} for t, p in self.sso.items()]
            return httpx.Response(200, json=found)
        if (method, path) == ("POST", "/auth/sso"):
            return self.login_sso(body)
        if (method, path) == ("POST", "/auth/refresh"):
            name = self.refresh_tokens.pop(body.get("refresh_token"), None)
            if name is None:
                return problem(401, "invalid_refresh")
            return httpx.Response(200, json=self.tokens(self.accounts[name]))
        if (method, path) == ("POST", "/auth/logout"):
            self.refresh_tokens.pop(body.get("refresh_token"), None)
            return httpx.Response(204)
        if (method, path) == ("POST", "/auth/set-password/check"):
            if body.get("token") != "good-link":
                return problem(400, "invalid_link")
            return httpx.Response(200, json={"tenant": "lang-son", "username": "hoang.thi.mai"})
        if (method, path) == ("POST", "/auth/set-password"):
            if body.get("token") != "good-link":
                return problem(400, "invalid_link")
            if len(body.get("password", "")) < 12:
                return weak()
            return httpx.Response(200, json={"tenant": "lang-son", "username": "hoang.thi.mai"})
        if path.startswith("/accounts") or path == "/audit" or path == "/auth/logout-all":
            me = self.caller(request)
            if me is None:
                return problem(401, "unauthorized")
            return self.signed_in(me, method, path, body, request)
        return None

    def login(self, body: dict[str, Any]) -> httpx.Response:
        account = self.accounts.get(body.get("username", ""))
        if account and self.failures.get(account.username, 0) >= 5:
            return problem(429, "locked_out", headers={"Retry-After": "600"})
        if account is None or not account.active or body.get("password") != account.password:
            if account:
                self.failures[account.username] = self.failures.get(account.username, 0) + 1
            return problem(401, "invalid_credentials")
        if account.totp and body.get("otp") != GOOD_OTP:
            return problem(401, "otp_required")
        tokens = self.tokens(account)
        if account.must_enrol and not account.totp:
            tokens["totp_enrollment_required"] = True
        return httpx.Response(200, json=tokens)

    def login_sso(self, body: dict[str, Any]) -> httpx.Response:
        """The id_token's signature is the provider's business here: its issuer and
        e-mail name the account (registration checks the signature for real)."""
        config = self.sso.get(body.get("tenant", ""))
        if config is None:
            return problem(404, "sso_not_configured")
        claims = json.loads(base64.urlsafe_b64decode(body["id_token"].split(".")[1] + "=="))
        if claims.get("iss") != config["issuer"] or claims.get("aud") != config["client_id"]:
            return problem(401, "sso_invalid_token")
        found = [a for a in self.accounts.values() if a.email == claims.get("email")]
        if len(found) != 1 or not found[0].active:
            return problem(401, "sso_unknown_person")
        return httpx.Response(200, json=self.tokens(found[0]))

    def signed_in(
        self, me: Account, method: str, path: str, body: dict[str, Any], request: httpx.Request
    ) -> httpx.Response:
        if path == "/accounts/me" and method == "GET":
            return httpx.Response(200, json=me.body())
        if path == "/accounts/me/password":
            if body.get("current") != me.password:
                return problem(400, "invalid_credentials")
            if len(body.get("new", "")) < 12:
                return weak()
            me.password = body["new"]
            return httpx.Response(204)
        if path == "/accounts/me/totp" and method == "POST":
            secret = "JBSWY3DPEHPK3PXP"
            uri = f"otpauth://totp/HNTH%20Ops:{me.username}?secret={secret}&issuer=HNTH%20Ops"
            return httpx.Response(200, json={"secret": secret, "otpauth_uri": uri})
        if path == "/accounts/me/totp/confirm":
            if body.get("otp") != GOOD_OTP:
                return problem(400, "invalid_otp")
            me.totp = True
            return httpx.Response(204)
        if path == "/auth/logout-all":
            for token, name in list(self.access_tokens.items()):
                if name == me.username:
                    del self.access_tokens[token]
            return httpx.Response(204)
        if me.role != "operator":
            return problem(403, "forbidden")
        return self.operator(method, path, body, request)

    def operator(
        self, method: str, path: str, body: dict[str, Any], request: httpx.Request
    ) -> httpx.Response:
        if (method, path) == ("GET", "/accounts"):
            found = [a.body() for a in self.accounts.values()]
            role = request.url.params.get("role")
            return httpx.Response(200, json=[a for a in found if not role or a["role"] == role])
        if (method, path) == ("POST", "/accounts"):
            if body["username"] in self.accounts:
                return problem(409, "account_exists")
            if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{2,63}", body["username"]):
                return httpx.Response(
                    422, json={"errors": [{"field": "username", "message": "Tên không hợp lệ"}]}
                )
            extra = {k: body.get(k) for k in ("unit", "email")}
            account = self.add(body["username"], body["role"], **extra)
            account.endpoints = body.get("endpoints") or []
            account.display_name = body.get("display_name", "")
            account.password = body.get("password") or ""
            return httpx.Response(201, json=account.body())
        found = re.fullmatch(r"/accounts/([^/]+)(/[a-z-]+)?", path)
        if found and found.group(1) in self.accounts:
            account = self.accounts[found.group(1)]
            action = found.group(2)
            if method == "PATCH" and action is None:
                for name, value in body.items():
                    setattr(account, name, value)
            elif action == "/disable":
                account.active = False
            elif action == "/enable":
                account.active = True
            elif action == "/reset-password" and not account.email:
                return problem(422, "email_required")
            return httpx.Response(200, json=account.body())
        if path == "/audit":
            return httpx.Response(200, json=self.audit)
        return problem(404, "not_found")


def nothing_else(request: httpx.Request) -> httpx.Response:
    """The other services: no meetings, nothing else."""
    if request.url.path == "/meetings":
        return httpx.Response(200, json={"items": [], "next_cursor": None})
    return httpx.Response(404, json={"detail": {"message": "không có"}})


def problem(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"code": code, "message": f"từ chối: {code}", "message_vi": code, "message_en": code}
    return httpx.Response(status, json=body, headers=headers)


def weak() -> httpx.Response:
    errors = [{"field": "password", "rule": "password.length", "message": "Mật khẩu quá ngắn"}]
    return httpx.Response(422, json={"errors": errors})


@contextlib.asynccontextmanager
async def console_over(
    registration: FakeRegistration, others: Handler, sso: Sso | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The console in front of `registration`'s sign-in routes and `others` for the rest
    (and, with `sso`, of the provinces' OpenID providers)."""

    def platform(request: httpx.Request) -> httpx.Response:
        return registration(request) or others(request)

    settings = ConsoleSettings(console_session_secret=SecretStr("unit-test-session-secret"))
    app = build(settings)
    app.state.backends = Backends(settings, transport=httpx.MockTransport(platform))
    if sso is not None:
        app.state.sso = sso
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
        yield client
    await app.state.backends.close()


@contextlib.asynccontextmanager
async def officer_and_clerk(others: Handler) -> AsyncIterator[httpx.AsyncClient]:
    """The console over `others` with two accounts: the IT department's duty officer
    `truc-ban` and the provincial office's clerk `van-thu`."""
    registration = FakeRegistration()
    registration.add("truc-ban", "operator", unit="STTTT")
    registration.add("van-thu", "registrar", unit="VP-UBND")
    async with console_over(registration, others) as client:
        yield client


def quiet_meeting_reads(path: str, meeting_id: str = "m1") -> httpx.Response | None:
    """A meeting page's side reads with nothing in them (no materials, incidents, units,
    groups, access requests, notices, checks or ratings); None for any other path."""
    at = f"/meetings/{meeting_id}"
    if path == f"{at}/materials":
        return httpx.Response(200, json={"items": [], "record_missing": False, "access": "upload"})
    if path in ("/incidents", "/units", "/groups", f"{at}/access-requests"):
        return httpx.Response(200, json=[])
    if path in (f"{at}/notices", f"{at}/readiness", f"{at}/feedback"):
        return httpx.Response(200, json=[])
    return None


def meeting_page_reads(
    path: str, meeting: dict[str, Any], endpoints: Sequence[Any] = (), meeting_id: str = "m1"
) -> httpx.Response:
    """A meeting page's reads: the meeting, the directory's endpoints and the quiet side
    reads; 404 for any other path."""
    if path == f"/meetings/{meeting_id}":
        return httpx.Response(200, json=meeting)
    if path == "/endpoints":
        return httpx.Response(200, json=list(endpoints))
    if quiet := quiet_meeting_reads(path, meeting_id):
        return quiet
    return httpx.Response(404, json={"detail": {"message": f"không có {path}"}})


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:2000]
    return found.group(1)


def registration_form(page: httpx.Response, **fields: str) -> dict[str, str]:
    """The registration form as posted from `page` (its CSRF token): a meeting on LS-UBND
    for the provincial office, `fields` changed or added."""
    return {
        "csrf": csrf_of(page),
        "title": "Họp giao ban",
        "host_unit": "VP-UBND",
        "chair": "Chủ tịch",
        "start": "2026-12-03 08:00",
        "minutes": "120",
        "main_endpoint": "LS-UBND",
        "idempotency_key": "k-1",
        **fields,
    }


async def sign_in(
    client: httpx.AsyncClient, username: str, password: str = STRONG, lang: str = "vi"
) -> httpx.Response:
    """Through the sign-in form, as a browser would: the page, then the form posted."""
    client.cookies.clear()
    client.cookies.set("lang", lang)
    form = await client.get("/signin")
    data = {"csrf": csrf_of(form), "tenant": TENANT, "username": username, "password": password}
    return await client.post("/signin", data=data)


async def post_form(
    client: httpx.AsyncClient, page: str, action: str, **data: Any
) -> httpx.Response:
    """Post a form of `page` with the CSRF token the page carries."""
    shown = await client.get(page)
    return await client.post(action, data={"csrf": csrf_of(shown), **data})
