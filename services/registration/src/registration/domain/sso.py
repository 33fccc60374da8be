"""Signing in through the province's OpenID provider, pure: is this (signature-checked)
id_token one the province's provider issued to us, just now, and which claim names the
person. Nothing here reads the clock, the network or the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

MatchClaim = Literal["email", "preferred_username"]
A = TypeVar("A", bound=Mapping[str, Any])

MAX_AGE = timedelta(minutes=5)
"""An id_token older than this is refused: the console exchanges it right after the
provider's redirect, so an older one is a copy someone kept."""
LEEWAY = timedelta(seconds=60)
"""Clock difference allowed between the provider and us."""


@dataclass(frozen=True)
class SsoConfig:
    """A province's OpenID provider (`sso:` in data/<tenant>.yaml)."""

    issuer: str
    client_id: str
    match_claim: MatchClaim = "email"


class NotForUs(Exception):
    """The id_token is not one to sign anybody in with; `reason` goes to the audit."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _instant(claims: Mapping[str, Any], name: str) -> datetime:
    value = claims.get(name)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise NotForUs(f"{name}_missing")
    return datetime.fromtimestamp(value, tz=UTC)


def person_claim(claims: Mapping[str, Any], config: SsoConfig, now: datetime) -> str:
    """The value of the province's chosen claim (an e-mail address lower-cased), if the
    token was issued by the province's provider to our client and is fresh; else NotForUs."""
    if claims.get("iss") != config.issuer:
        raise NotForUs("wrong_issuer")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or config.client_id not in audiences:
        raise NotForUs("wrong_audience")
    if len(audiences) > 1 and claims.get("azp") != config.client_id:
        raise NotForUs("wrong_audience")
    if _instant(claims, "exp") <= now - LEEWAY:
        raise NotForUs("expired")
    issued = _instant(claims, "iat")
    if issued > now + LEEWAY or issued < now - MAX_AGE:
        raise NotForUs("stale")
    value = claims.get(config.match_claim)
    if not isinstance(value, str) or not value.strip():
        raise NotForUs(f"{config.match_claim}_missing")
    if config.match_claim == "email":
        if claims.get("email_verified") is False:
            raise NotForUs("email_unverified")
        return value.strip().lower()
    return value.strip()


def only_match(accounts: Sequence[A], claim: MatchClaim, value: str) -> A | None:
    """The one active account the claim names (an e-mail address in any case, or the
    username exactly); None when none or several do: a person is never guessed between
    two accounts, and never created."""

    def named(account: Mapping[str, Any]) -> bool:
        if claim == "email":
            return str(account.get("email") or "").strip().lower() == value
        return account.get("username") == value

    found = [account for account in accounts if account.get("active") and named(account)]
    return found[0] if len(found) == 1 else None
