"""Integrating systems (issue 21), pure: a system's client id, what a name must be, who
the system's tokens say it is, and the client authentication of RFC 6749 §2.3.1.
Nothing here reads the clock, the database or a secret's hash.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import unquote_plus

from hnth_kit.refusal import Violation

TOKEN_TTL = timedelta(minutes=15)
"""How long a system's access token lives: as short as a person's (no refresh token; a
system asks again with its credentials), so a leaked token is soon useless."""
SOURCE = (
    "HNTH Ops: hệ thống tích hợp đăng ký như cán bộ đăng ký của một đơn vị, mỗi tên "
    "một hệ thống trong tỉnh, để nhật ký và việc thu hồi chỉ đúng một hệ thống"
)
NAME_MAX = 100
SLUG_MAX = 24
GRANT = "client_credentials"


def slug(name: str) -> str:
    """`Hệ thống E-Office Sở Nội vụ` -> `he-thong-e-office-so-noi-vu` (at most 24)."""
    plain = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    ascii_only = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")
    return words[:SLUG_MAX].strip("-") or "system"


def client_id(tenant: str, name: str, random: str) -> str:
    """`sys-<tenant>-<slug>-<random>`: readable in logs, unique by its random tail."""
    return f"sys-{tenant}-{slug(name)}-{random}"


def subject(client: str) -> str:
    """The `sub` of a system's tokens, the subject a revocation names."""
    return f"system:{client}"


def same_name(name: str) -> str:
    """Names compared as people read them: case and spacing do not make a new name."""
    return " ".join(name.split()).casefold()


def name_violations(name: str, taken: Collection[str]) -> list[Violation]:
    """Why `name` may not name a new system in a province whose systems are `taken`."""
    if not name.strip():
        return [
            Violation(
                "name",
                "system.name",
                SOURCE,
                "Cần tên hệ thống.",
                "A system needs a name.",
            )
        ]
    if same_name(name) in {same_name(t) for t in taken}:
        return [
            Violation(
                "name",
                "system.name_unique",
                SOURCE,
                f"Tỉnh đã có hệ thống tên {name}.",
                f"The province already has a system named {name}.",
            )
        ]
    return []


def unit_violations(unit: str, active: bool | None) -> list[Violation]:
    """A system files as a registrar of an active unit (`active`: None when unknown)."""
    if active:
        return []
    return [
        Violation(
            "unit",
            "directory.unit_active",
            SOURCE,
            f"Đơn vị {unit} không có hoặc đã ngừng hoạt động.",
            f"Unit {unit} does not exist or is inactive.",
        )
    ]


@dataclass(frozen=True)
class ClientCredentials:
    """A client's id and secret, and whether they came by HTTP Basic (§2.3.1)."""

    client_id: str
    secret: str
    basic: bool


class OAuthError(Exception):
    """A token request refused, as RFC 6749 §5.2 says (`error`, `error_description`)."""

    def __init__(
        self, status: int, error: str, description: str, retry_after: int | None = None
    ) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description
        self.retry_after = retry_after
        self.basic = False

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def invalid_client(description: str = "Unknown client or wrong secret.") -> OAuthError:
    return OAuthError(401, "invalid_client", description)


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """The id and secret of an `Authorization: Basic` header (each form-urlencoded, as
    §2.3.1 says), None when the header is not Basic; invalid_client when it is broken."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise _basic(invalid_client("The Basic credentials are not base64.")) from None
    user, colon, password = decoded.partition(":")
    if not colon:
        raise _basic(invalid_client("The Basic credentials need id:secret."))
    return unquote_plus(user), unquote_plus(password)


def token_request(
    grant_type: str | None,
    basic: tuple[str, str] | None,
    form_id: str | None,
    form_secret: str | None,
) -> ClientCredentials:
    """The client a client-credentials request authenticates, or the §5.2 error."""
    if basic is not None and (form_id or form_secret):
        raise _basic(OAuthError(400, "invalid_request", "Use one way to authenticate the client."))
    if not grant_type:
        raise OAuthError(400, "invalid_request", "grant_type is missing.")
    if grant_type != GRANT:
        raise OAuthError(400, "unsupported_grant_type", f"Only {GRANT} is supported.")
    if basic is not None:
        return ClientCredentials(basic[0], basic[1], basic=True)
    if not form_id or not form_secret:
        raise invalid_client("Client authentication is missing (Basic, or the form fields).")
    return ClientCredentials(form_id, form_secret, basic=False)


def _basic(error: OAuthError) -> OAuthError:
    error.basic = True
    return error
