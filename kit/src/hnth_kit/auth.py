"""Bearer tokens: short-lived JWTs signed (ES256) by registration alone, verified by every
service against registration's public keys, and refused once their subject is revoked.

Registration holds the private keys (`SigningKeys`, a JWKS file of its own); the other
services hold no secret: they read `/.well-known/jwks.json` (`RemoteKeys`) and fetch it
again when a token names a key they do not know yet (a rotation). Every HTTP route except
health and docs depends on `caller` and, where it changes or reveals something, `only`.
"""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Protocol, cast
from uuid import uuid4

# No `from __future__ import annotations` here: FastAPI must resolve Annotated closures.
import httpx
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, KeySetSerialization
from pydantic import BaseModel, ConfigDict

from hnth_kit.errors import problem

ALGORITHM = "ES256"
ISSUER = "hnth-ops"
ACCESS_TTL = timedelta(minutes=15)
"""A person's access token: short, so a stolen one is worth little (refresh renews it)."""


class Role(StrEnum):
    REGISTRAR = "registrar"
    """A host unit's registrar: its own unit's meetings."""
    OPERATOR = "operator"
    """The provincial IT department (Sở KH&CN): everything in its province."""
    TECHNICIAN = "technician"
    """An endpoint's technician: its endpoints' meetings and checks."""
    VIEWER = "viewer"
    """Read only."""


class Principal(BaseModel):
    """Who is calling, as the token says."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str
    role: Role
    tenant: str
    unit: str | None = None
    endpoints: tuple[str, ...] = ()
    name: str | None = None
    """The person's display name, when the token is a person's."""
    issued_at: datetime | None = None

    def serves(self, endpoint: str | None) -> bool:
        """Whether `endpoint` is one this caller (a technician) looks after."""
        return endpoint is not None and endpoint in self.endpoints


# ---------------------------------------------------------------- signing (registration)


def new_signing_key() -> dict[str, Any]:
    """A fresh private key as a JWK (its `kid` is its thumbprint)."""
    key = ECKey.generate_key("P-256", {"use": "sig", "alg": ALGORITHM}, auto_kid=True)
    return dict(key.as_dict(private=True))


def rotated(jwks: Mapping[str, Any], keep: int = 3) -> dict[str, Any]:
    """`jwks` with a new signing key last; the `keep - 1` keys before it still verify,
    so tokens they signed live out their time."""
    keys = [*jwks.get("keys", []), new_signing_key()]
    return {"keys": keys[-keep:]}


class SigningKeys:
    """Registration's private keys: the last one signs, every one verifies."""

    def __init__(self, jwks: Mapping[str, Any]) -> None:
        keys = list(jwks.get("keys", []))
        if not keys:
            raise ValueError("the signing key set is empty: run `hnth keys generate`")
        self._set = KeySet.import_key_set({"keys": keys})
        self._signer = self._set.keys[-1]

    @classmethod
    def generate(cls) -> "SigningKeys":
        return cls({"keys": [new_signing_key()]})

    @classmethod
    def load(cls, path: Path) -> "SigningKeys":
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def private(self) -> dict[str, Any]:
        """The whole set with private parts (to write the keys file; never served)."""
        return dict(self._set.as_dict(private=True))

    def public(self) -> dict[str, Any]:
        """The JWKS other services verify with."""
        return dict(self._set.as_dict(private=False))

    def sign(self, claims: Mapping[str, Any]) -> str:
        header = {"alg": ALGORITHM, "kid": self._signer.kid}
        return jwt.encode(header, dict(claims), self._signer, algorithms=[ALGORITHM])


class KeysFile:
    """The signing keys file, read again when it changes (a rotation needs no restart)."""

    def __init__(self, path: Path, check_seconds: float = 10.0) -> None:
        self._path = path
        self._check_seconds = check_seconds
        self._checked = 0.0
        self._mtime = path.stat().st_mtime
        self._keys = SigningKeys.load(path)

    def current_keys(self) -> SigningKeys:
        if time.monotonic() - self._checked > self._check_seconds:
            self._checked = time.monotonic()
            mtime = self._path.stat().st_mtime
            if mtime != self._mtime:
                self._keys, self._mtime = SigningKeys.load(self._path), mtime
        return self._keys


def issue_token(
    keys: SigningKeys,
    *,
    role: Role,
    tenant: str,
    subject: str | None = None,
    unit: str | None = None,
    endpoint: str | None = None,
    endpoints: Sequence[str] = (),
    name: str | None = None,
    ttl: timedelta = ACCESS_TTL,
    now: datetime | None = None,
) -> str:
    """Sign a token for a principal; registrars need a unit and technicians an endpoint."""
    served = tuple(endpoints) + ((endpoint,) if endpoint else ())
    if role is Role.REGISTRAR and not unit:
        raise ValueError("a registrar token needs --unit")
    if role is Role.TECHNICIAN and not served:
        raise ValueError("a technician token needs --endpoint")
    issued = now or datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "sub": subject or f"{role.value}:{unit or (served[0] if served else tenant)}",
        "jti": uuid4().hex,
        "role": role.value,
        "tenant": tenant,
        "unit": unit,
        "endpoints": list(served),
        "name": name,
        # fractional seconds (RFC 7519 NumericDate): a revocation at 10:00:00.5 refuses a
        # token from 10:00:00.2, not one issued at 10:00:00.7 after a new sign-in
        "iat": round(issued.timestamp(), 3),
        "exp": int((issued + ttl).timestamp()),
    }
    return keys.sign(claims)


# ---------------------------------------------------------------- verifying (every service)


class InvalidToken(Exception):
    pass


class KeysUnavailable(Exception):
    """The public keys could not be read (registration unreachable): try again shortly."""


_REQUIRED: dict[str, jwt.ClaimsOption] = {
    "iss": {"essential": True, "value": ISSUER},
    "sub": {"essential": True},
    "exp": {"essential": True},
    "iat": {"essential": True},
}
LEEWAY_SECONDS = 30
"""Clock skew tolerated between the server that signs and the one that verifies."""


def verify_token(keys: KeySet, token: str, now: datetime | None = None) -> Principal:
    """The principal of a valid, unexpired token; raises InvalidToken otherwise."""
    try:
        claims = jwt.decode(token, keys, algorithms=[ALGORITHM]).claims
        at = int((now or datetime.now(UTC)).timestamp())
        jwt.JWTClaimsRegistry(now=at, leeway=LEEWAY_SECONDS, **_REQUIRED).validate(claims)
        return Principal(
            subject=claims["sub"],
            role=Role(claims["role"]),
            tenant=claims["tenant"],
            unit=claims.get("unit"),
            endpoints=tuple(claims.get("endpoints") or ()),
            name=claims.get("name"),
            issued_at=datetime.fromtimestamp(claims["iat"], UTC),
        )
    except (JoseError, KeyError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc


def _kid(token: str) -> str | None:
    try:
        kid = jws.extract_compact(token.encode()).headers().get("kid")
    except (JoseError, ValueError):
        return None
    return kid if isinstance(kid, str) else None


def public_key_set(jwks: Mapping[str, Any]) -> KeySet:
    """A JWKS document as joserfc's KeySet."""
    return KeySet.import_key_set(cast(KeySetSerialization, dict(jwks)))


class PublicKeys(Protocol):
    async def for_token(self, token: str) -> KeySet: ...


class StaticKeys:
    """Keys known up front: registration's own, or an inline JWKS (tests)."""

    def __init__(self, jwks: Mapping[str, Any] | Callable[[], Mapping[str, Any]]) -> None:
        self._jwks = jwks

    async def for_token(self, token: str) -> KeySet:
        jwks = self._jwks() if callable(self._jwks) else self._jwks
        try:
            return public_key_set(jwks)
        except JoseError:  # an empty or broken set: nothing can be verified
            raise KeysUnavailable("the configured key set holds no usable key") from None


class RemoteKeys:
    """Registration's JWKS over HTTP: read at first use, and again (at most every
    `min_refresh_seconds`) when a token names an unknown key."""

    def __init__(self, url: str, min_refresh_seconds: float = 10.0) -> None:
        self._url = url
        self._min_refresh = min_refresh_seconds
        self._keys: KeySet | None = None
        self._fetched = float("-inf")
        self._lock = asyncio.Lock()

    async def for_token(self, token: str) -> KeySet:
        kid = _kid(token)
        known = self._keys is not None and any(k.kid == kid for k in self._keys.keys)
        if not known and time.monotonic() - self._fetched >= self._min_refresh:
            async with self._lock:
                if time.monotonic() - self._fetched >= self._min_refresh:
                    await self._fetch()
        if self._keys is None:
            raise KeysUnavailable(self._url)
        return self._keys

    async def _fetch(self) -> None:
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(self._url)
                response.raise_for_status()
                self._keys = KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, JoseError):
            if self._keys is None:
                raise KeysUnavailable(self._url) from None
        finally:
            self._fetched = time.monotonic()


class Revocations(Protocol):
    def refuses(self, who: Principal) -> bool: ...


_bearer = HTTPBearer(auto_error=False, description="An access token from `POST /auth/login`")


def _unauthorized(request: Request, code: str, why_vi: str, why_en: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=problem(request, code, why_vi, why_en),
        headers={"WWW-Authenticate": "Bearer"},
    )


class Authenticator:
    """FastAPI dependency: the caller's Principal, or 401."""

    def __init__(self, keys: PublicKeys, revocations: Revocations | None = None) -> None:
        self._keys = keys
        self._revocations = revocations
        self.current: Callable[[Principal], Principal] = lambda who: who
        """The caller as of today's provinces: a renamed province's token speaks for the
        new code; a merged one's is refused, naming the province it joined (`tenants`)."""

    async def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None:
            raise _unauthorized(
                request,
                "unauthorized",
                "Thiếu mã xác thực (Bearer token).",
                "A bearer token is required.",
            )
        token = credentials.credentials
        try:
            who = verify_token(await self._keys.for_token(token), token)
        except KeysUnavailable:
            raise HTTPException(
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                detail=problem(
                    request,
                    "keys_unavailable",
                    "Chưa kiểm tra được mã xác thực, vui lòng thử lại sau ít phút.",
                    "Sign-in cannot be checked right now; try again in a minute.",
                ),
                headers={"Retry-After": "10"},
            ) from None
        except InvalidToken:
            raise _unauthorized(
                request,
                "unauthorized",
                "Mã xác thực không hợp lệ hoặc đã hết hạn.",
                "The token is invalid or has expired.",
            ) from None
        if self._revocations is not None and self._revocations.refuses(who):
            raise _unauthorized(
                request,
                "revoked",
                "Phiên đăng nhập này đã bị thu hồi; vui lòng đăng nhập lại.",
                "This sign-in has been revoked; please sign in again.",
            )
        return self.current(who)


def _allow(request: Request, who: Principal, roles: tuple[Role, ...]) -> None:
    if who.role not in roles:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail=problem(
                request,
                "forbidden",
                f"Vai trò '{who.role}' không được phép thực hiện thao tác này.",
                f"The role '{who.role}' may not do this.",
            ),
        )


# ---------------------------------------------------------------- route dependencies
# Module-level routers take the caller from the Authenticator `Service` puts on
# `app.state.auth`, so a route declares `who: Caller` (or `Operator`, or `only(...)`).


async def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller's Principal (401 without a valid token)."""
    authenticate: Authenticator = request.app.state.auth
    return await authenticate(request, credentials)


def only(*roles: Role) -> Callable[[Request, Principal], Awaitable[Principal]]:
    """A dependency that lets only `roles` through (403 for the others)."""

    async def check(request: Request, who: Annotated[Principal, Depends(caller)]) -> Principal:
        _allow(request, who, roles)
        return who

    return check


Caller = Annotated[Principal, Depends(caller)]
"""Any signed-in caller."""
Operator = Annotated[Principal, Depends(only(Role.OPERATOR))]
"""The IT department (Sở KH&CN) only."""
