"""The console's session: the person's access and refresh tokens, a CSRF token, and a
sign-in waiting for its one-time code or for the province's OpenID provider, kept in one
cookie that is encrypted and authenticated with the console's own secret (Fernet, from
`cryptography`), HttpOnly, SameSite=Lax (the provider's redirect back, a top-level GET,
still carries it), `Secure` with the `__Host-` prefix behind HTTPS.

The console verifies no token: registration signs them and every service verifies them.
It reads the claims it shows (who, which role, until when) from the token it was handed
at sign-in, and a service's 401 sends the person back to the sign-in page.

`SessionCookies` (ASGI middleware) writes the cookie when a request changed the session
(a sign-in, a refresh behind the scenes, a sign-out)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from pydantic import BaseModel, ValidationError
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hnth_kit.auth import Role

REFRESH_AHEAD = 60
"""Seconds before its expiry the access token is refreshed."""
OTP_WAIT = 300
"""Seconds a sign-in waits for its one-time code."""
_OUT = "hnth_console_session_out"


class Pending(BaseModel):
    """A sign-in whose password was right and that now waits for the one-time code."""

    tenant: str
    username: str
    password: str
    until: float


class SsoPending(BaseModel):
    """A sign-in sent to the province's OpenID provider, waiting for its callback: the
    `state` it must bring back, the `nonce` its id_token must carry, the PKCE verifier."""

    tenant: str
    state: str
    nonce: str
    verifier: str
    next: str
    until: float


class SessionState(BaseModel):
    """What the cookie holds."""

    csrf: str
    access: str | None = None
    refresh: str | None = None
    access_exp: float = 0
    refresh_exp: float = 0
    pending: Pending | None = None
    sso: SsoPending | None = None

    @classmethod
    def new(cls) -> SessionState:
        return cls(csrf=secrets.token_urlsafe(32))

    def signed_in(self, tokens: dict[str, Any], now: float) -> SessionState:
        """After a login or a refresh (`tokens` is registration's answer): the new tokens,
        a new CSRF token, no sign-in pending."""
        return SessionState(
            csrf=secrets.token_urlsafe(32),
            access=str(tokens["access_token"]),
            refresh=str(tokens["refresh_token"]),
            access_exp=now + float(tokens["expires_in"]),
            refresh_exp=now + float(tokens.get("refresh_expires_in") or tokens["expires_in"]),
        )

    def refreshed(self, tokens: dict[str, Any], now: float) -> SessionState:
        """The rotated tokens; the same CSRF token (forms open in other tabs still post)."""
        return self.signed_in(tokens, now).model_copy(update={"csrf": self.csrf})


@dataclass(frozen=True)
class Person:
    """Who the access token names (read, not verified: the services verify it)."""

    subject: str
    role: Role
    tenant: str
    unit: str | None = None
    endpoints: tuple[str, ...] = ()
    name: str | None = None

    @property
    def endpoint(self) -> str | None:
        return self.endpoints[0] if self.endpoints else None

    @property
    def shown(self) -> str:
        return self.name or self.subject


def claims_of(token: str) -> dict[str, Any]:
    """The claims of a JWT, without checking its signature; ValueError if it is no JWT."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as exc:
        raise ValueError("not a JWT") from exc
    if not isinstance(claims, dict):
        raise ValueError("not a JWT")
    return claims


def person_of(token: str) -> Person:
    """The person an access token names; ValueError if it names nobody."""
    claims = claims_of(token)
    try:
        endpoints = claims.get("endpoints") or (
            [claims["endpoint"]] if claims.get("endpoint") else []
        )
        return Person(
            subject=str(claims["sub"]),
            role=Role(claims["role"]),
            tenant=str(claims["tenant"]),
            unit=claims.get("unit"),
            endpoints=tuple(str(e) for e in endpoints),
            name=claims.get("name"),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"token without {exc}") from exc


class Sealer:
    """Encrypts and authenticates the session cookie with a key derived from the console's
    secret (`HNTH_CONSOLE_SESSION_SECRET`; a fresh one per process when unset)."""

    def __init__(self, secret: str, *, secure: bool, max_age: int) -> None:
        key = hashlib.sha256(b"hnth-console-session\0" + secret.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(key))
        self.name = "__Host-hnth_session" if secure else "hnth_session"
        self.secure = secure
        self.max_age = max_age

    def seal(self, state: SessionState) -> str:
        return self._fernet.encrypt(state.model_dump_json().encode()).decode()

    def open(self, sealed: str | None) -> SessionState | None:
        """The session a cookie holds; None when absent, forged, or older than `max_age`."""
        if not sealed:
            return None
        try:
            plain = self._fernet.decrypt(sealed.encode(), ttl=self.max_age)
            return SessionState.model_validate_json(plain)
        except (InvalidToken, ValidationError):
            return None

    def headers(self, state: SessionState | None) -> list[tuple[bytes, bytes]]:
        """The Set-Cookie header that stores `state` (None: deletes the cookie)."""
        response = Response()
        if state is None:
            response.delete_cookie(
                self.name, secure=self.secure, httponly=True, samesite="lax", path="/"
            )
        else:
            response.set_cookie(
                self.name,
                self.seal(state),
                max_age=self.max_age,
                path="/",
                secure=self.secure,
                httponly=True,
                samesite="lax",
            )
        return [(k, v) for k, v in response.raw_headers if k == b"set-cookie"]


class _Out:
    """What this request decided about the session (set by the pages, written by the
    middleware)."""

    def __init__(self) -> None:
        self.changed = False
        self.state: SessionState | None = None
        self.loaded = False


def _out(connection: HTTPConnection) -> _Out:
    state = connection.scope.setdefault("state", {})
    out = state.get(_OUT)
    if out is None:
        out = state[_OUT] = _Out()
    assert isinstance(out, _Out)
    return out


def current(connection: HTTPConnection, sealer: Sealer) -> SessionState | None:
    """The session of this request (as changed so far by it)."""
    out = _out(connection)
    if not out.loaded:
        out.state, out.loaded = sealer.open(connection.cookies.get(sealer.name)), True
    return out.state


def store(connection: HTTPConnection, state: SessionState | None) -> None:
    """Keep `state` as the session (None: end it); the response carries the cookie."""
    out = _out(connection)
    out.state, out.loaded, out.changed = state, True, True


class SessionCookies:
    """Adds the session cookie to the response of a request that changed the session."""

    def __init__(self, app: ASGIApp, sealer: Sealer) -> None:
        self.app = app
        self.sealer = sealer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        out = _Out()
        scope.setdefault("state", {})[_OUT] = out

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and out.changed:
                headers: Iterable[tuple[bytes, bytes]] = message.get("headers", [])
                message = {**message, "headers": [*headers, *self.sealer.headers(out.state)]}
            await send(message)

        await self.app(scope, receive, sending)
