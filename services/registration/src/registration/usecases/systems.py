"""Integrating systems (issue 21): an operator registers, lists and disables its
province's systems; a system trades its client credentials for an access token
(RFC 6749 §4.4) that files as a registrar of its unit.

The secret is shown once and stored as an Argon2 hash (as passwords are). Disabling
publishes `TokensRevoked` for `system:<client_id>` through the outbox, so every service
refuses the system's tokens within its revocation refresh. Failed token requests count
like failed password sign-ins (`auth.lockout_*` of the province).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from hnth_contracts import TokensRevoked
from hnth_contracts.policy import Policy
from hnth_kit.auth import Principal
from hnth_kit.clock import Clock
from hnth_kit.mongo import Document
from hnth_kit.refusal import Refusal
from registration import PRODUCER
from registration.domain import accounts as rules
from registration.domain import systems as domain
from registration.domain.accounts import Attempt
from registration.domain.systems import OAuthError
from registration.usecases.accounts import Context, Passwords, new_secret
from registration.usecases.signin import TokenIssuer, decoy


class SystemStorePort(Protocol):
    async def unit_active(self, tenant: str, unit: str) -> bool | None: ...
    async def system(self, client_id: str) -> Document | None: ...
    async def systems(self, tenant: str) -> list[Document]: ...
    async def create_system(self, system: Document) -> bool: ...
    async def disable_system(
        self, client_id: str, at: datetime, events: Sequence[TokensRevoked]
    ) -> bool: ...


class AttemptsPort(Protocol):
    """The sign-in attempts and the audit (the account store's)."""

    async def attempts(self, tenant: str, username: str, since: datetime) -> list[Attempt]: ...
    async def record_attempt(self, tenant: str, username: str, at: datetime, ok: bool) -> None: ...
    async def audit(self, row: Document) -> None: ...


SHOWN = ("client_id", "tenant", "name", "unit", "disabled", "created_at", "disabled_at")


def shown(system: Document) -> dict[str, Any]:
    """A system as operators read it: never its secret's hash."""
    return {k: system.get("_id" if k == "client_id" else k) for k in SHOWN}


class Systems:
    def __init__(
        self,
        store: SystemStorePort,
        attempts: AttemptsPort,
        policy_for: Callable[[str], Policy],
        clock: Clock,
        issuer: TokenIssuer,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.store, self.attempts, self.policy_for = store, attempts, policy_for
        self.clock, self.issuer, self.wake = clock, issuer, wake

    async def create(
        self, who: Principal, name: str, unit: str, token_url: str, ctx: Context
    ) -> dict[str, Any]:
        """A new system of the caller's province; the answer holds its secret, once."""
        name = " ".join(name.split())
        taken = [s["name"] for s in await self.store.systems(who.tenant)]
        broken = domain.name_violations(name, taken)
        broken += domain.unit_violations(unit, await self.store.unit_active(who.tenant, unit))
        if broken:
            raise Refusal.broken(broken)
        secret = new_secret()
        system: Document = {
            "_id": domain.client_id(who.tenant, name, secrets.token_hex(4)),
            "tenant": who.tenant,
            "name": name,
            "unit": unit,
            "disabled": False,
            "secret_hash": Passwords.hash(secret),
            "created_at": self.clock.now(),
        }
        if not await self.store.create_system(system):  # a concurrent twin took the name
            raise Refusal.broken(domain.name_violations(name, [name]))
        await self._audit(who.tenant, "system_created", system["_id"], ctx, unit=unit)
        return {
            "client_id": system["_id"],
            "client_secret": secret,
            "token_url": token_url,
            "tenant": who.tenant,
            "name": name,
            "unit": unit,
        }

    async def listed(self, who: Principal) -> list[dict[str, Any]]:
        return [shown(s) for s in await self.store.systems(who.tenant)]

    async def disable(self, who: Principal, client_id: str, ctx: Context) -> dict[str, Any]:
        """Disabled; every token it holds is revoked (idempotent)."""
        system = await self.store.system(client_id)
        if system is None or system["tenant"] != who.tenant:
            raise Refusal.not_found(f"hệ thống {client_id}", f"system {client_id}")
        if not system["disabled"]:
            now = self.clock.now()
            revoked = TokensRevoked.create(
                tenant=who.tenant,
                correlation_id=f"system:{client_id}",
                producer=PRODUCER,
                occurred_at=now,
                subject=domain.subject(client_id),
                not_before=now,
                reason="system_disabled",
            )
            if await self.store.disable_system(client_id, now, [revoked]):
                self.wake()
                await self._audit(who.tenant, "system_disabled", client_id, ctx)
        found = await self.store.system(client_id)
        assert found is not None  # systems are never deleted
        return shown(found)

    async def token(
        self,
        grant_type: str | None,
        authorization: str | None,
        form_id: str | None,
        form_secret: str | None,
        ctx: Context,
    ) -> dict[str, Any]:
        """An access token for a system's client credentials, or the §5.2 error."""
        basic = domain.basic_credentials(authorization)
        asked = domain.token_request(grant_type, basic, form_id, form_secret)
        try:
            return await self._grant(asked, ctx)
        except OAuthError as refused:
            refused.basic = asked.basic
            raise

    async def _grant(self, asked: domain.ClientCredentials, ctx: Context) -> dict[str, Any]:
        system, now = await self.store.system(asked.client_id), self.clock.now()
        # failures lock the client id from the address they came from only: a client id is
        # no secret (it is in every request the system files), and its secret is 256
        # random bits, so a lock for everyone would let a stranger stop the system
        tries = f"{asked.client_id}@{ctx.ip}" if ctx.ip else asked.client_id
        if system is not None:
            await self._not_locked(system, tries, now)
        hashed = (system or {}).get("secret_hash") or decoy()
        if not (Passwords.verify(asked.secret, hashed) and system and not system["disabled"]):
            if system is not None:
                await self.attempts.record_attempt(system["tenant"], tries, now, False)
                await self._audit(system["tenant"], "login_failed", system["_id"], ctx)
            raise domain.invalid_client()
        await self.attempts.record_attempt(system["tenant"], tries, now, True)
        access = self.issuer(
            role="registrar",
            tenant=system["tenant"],
            subject=domain.subject(system["_id"]),
            unit=system["unit"],
            endpoints=(),
            name=system["name"],
            ttl=domain.TOKEN_TTL,
            now=now,
        )
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int(domain.TOKEN_TTL.total_seconds()),
        }

    async def _not_locked(self, system: Document, tries: str, now: datetime) -> None:
        knobs = rules.sign_in_policy(self.policy_for(system["tenant"]))
        since = now - knobs.lockout_window
        tried = await self.attempts.attempts(system["tenant"], tries, since)
        until = rules.locked_until(tried, now, knobs.lockout_failures, knobs.lockout_window)
        if until is not None:
            wait = rules.retry_after(until, now)
            raise OAuthError(
                429,
                "invalid_client",
                f"Too many failed attempts; try again in {wait} s.",
                retry_after=wait,
            )

    async def _audit(
        self, tenant: str, kind: str, client_id: str, ctx: Context, **detail: Any
    ) -> None:
        row = {"tenant": tenant, "at": self.clock.now(), "kind": kind, "username": client_id}
        await self.attempts.audit(row | {"actor": ctx.actor, "ip": ctx.ip, "detail": detail})
