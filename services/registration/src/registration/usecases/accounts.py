"""Account use cases for the province's operators (create, change, disable, enable, reset
a password, list the audit) and for a signed-in person (their account, their password).

Every change is one write of the account document with the events it causes
(TokensRevoked, AccessLinkIssued) and an audit row inserted after it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, Protocol

from pwdlib import PasswordHash

from hnth_contracts import AccessLinkIssued, Event, TokensRevoked
from hnth_contracts.events import AccessLinkPurpose
from hnth_contracts.policy import Policy
from hnth_kit.auth import Principal
from hnth_kit.clock import Clock
from hnth_kit.mongo import Document
from hnth_kit.refusal import Refusal, Violation
from registration import PRODUCER
from registration.account_commands import AccountIn, AccountPatch
from registration.domain import accounts as rules
from registration.domain.accounts import Attempt
from registration.store import StaleWrite

Passwords = PasswordHash.recommended()
"""Argon2id with pwdlib's recommended parameters."""


class AccountStorePort(Protocol):
    async def directory(
        self, tenant: str, unit: str | None, endpoints: Sequence[str]
    ) -> tuple[dict[str, bool], dict[str, bool]]: ...
    async def account(self, tenant: str, username: str) -> Document | None: ...
    async def accounts(self, tenant: str, filters: Document) -> list[Document]: ...
    async def names(self, tenant: str, usernames: Collection[str]) -> dict[str, str]: ...
    async def create_account(self, account: Document, events: Sequence[Event]) -> bool: ...
    async def update_account(
        self,
        tenant: str,
        username: str,
        version: int,
        fields: Document,
        events: Sequence[Event] = (),
        unset: Sequence[str] = (),
    ) -> None: ...
    async def attempts(self, tenant: str, username: str, since: datetime) -> list[Attempt]: ...
    async def record_attempt(self, tenant: str, username: str, at: datetime, ok: bool) -> None: ...
    async def audit(self, row: Document) -> None: ...
    async def audit_rows(self, tenant: str, filters: Document, limit: int) -> list[Document]: ...
    async def save_token(self, kind: str, row: Document) -> None: ...
    async def token(self, kind: str, digest: str) -> Document | None: ...
    async def token_used(self, kind: str, digest: str) -> bool: ...
    async def use_token(self, kind: str, digest: str, at: datetime) -> bool: ...
    async def revoke_family(self, family: str, at: datetime) -> None: ...
    async def family_revoked(self, family: str) -> bool: ...


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of the 10,000 most common passwords (`data/README.md`)."""
    text = resources.files("registration").joinpath("data/common-passwords.txt").read_text()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def digest(secret: str) -> str:
    """How a refresh token or link token is stored: only its SHA-256 (a 256-bit random
    secret needs no salt or slow hash)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Context:
    """Who acts and from where, for the audit."""

    actor: str | None = None
    ip: str | None = None


class AccountBase:
    """What account and sign-in use cases share: the store, policy, clock, audit."""

    def __init__(
        self,
        store: AccountStorePort,
        policy_for: Callable[[str], Policy],
        clock: Clock,
        wake: Callable[[], None] = lambda: None,
        console_url: str = "http://127.0.0.1:8080",
    ) -> None:
        self.store, self.policy_for, self.clock, self.wake = store, policy_for, clock, wake
        self.console_url = console_url.rstrip("/")

    async def record(
        self, tenant: str, kind: str, username: str | None, ctx: Context, **detail: Any
    ) -> None:
        await self.store.audit(
            {
                "tenant": tenant,
                "at": self.clock.now(),
                "kind": kind,
                "username": username,
                "actor": ctx.actor,
                "ip": ctx.ip,
                "detail": detail,
            }
        )

    async def load(self, tenant: str, username: str) -> Document:
        found = await self.store.account(tenant, username)
        if found is None:
            raise Refusal.not_found(f"tài khoản {username}", f"account {username}")
        return found

    async def change(
        self,
        account: Document,
        fields: Document,
        events: Sequence[Event] = (),
        unset: Sequence[str] = (),
    ) -> None:
        try:
            await self.store.update_account(
                account["tenant"],
                account["username"],
                account["version"],
                {**fields, "updated_at": self.clock.now()},
                events,
                unset,
            )
        except StaleWrite:
            raise Refusal(
                409,
                "concurrent_change",
                "Tài khoản vừa được sửa; hãy tải lại.",
                "The account was changed by someone else; reload.",
            ) from None
        if events:
            self.wake()

    def revoked(self, account: Document, reason: str) -> TokensRevoked:
        return TokensRevoked.create(
            tenant=account["tenant"],
            correlation_id=f"account:{account['username']}",
            producer=PRODUCER,
            occurred_at=self.clock.now(),
            subject=account["username"],
            not_before=self.clock.now(),
            reason=reason,
        )

    async def link(self, account: Document, purpose: AccessLinkPurpose) -> AccessLinkIssued:
        """A one-time set-password link: its token's hash stored, the link in the event."""
        if not account.get("email"):
            raise Refusal.broken(
                [
                    Violation(
                        "email",
                        "account.email_for_link",
                        "HNTH Ops: liên kết đặt mật khẩu gửi qua thư điện tử",
                        "Cần thư điện tử để gửi liên kết đặt mật khẩu (hoặc nhập mật khẩu).",
                        "An e-mail address is needed to send a set-password link "
                        "(or give a password).",
                    )
                ]
            )
        now, secret = self.clock.now(), new_secret()
        expires = now + rules.sign_in_policy(self.policy_for(account["tenant"])).link_ttl
        await self.store.save_token(
            "link",
            {
                "_id": digest(secret),
                "tenant": account["tenant"],
                "username": account["username"],
                "purpose": purpose.value,
                "issued_at": now,
                "expires_at": expires,
            },
        )
        return AccessLinkIssued.create(
            tenant=account["tenant"],
            correlation_id=f"account:{account['username']}",
            producer=PRODUCER,
            occurred_at=now,
            subject=account["username"],
            display_name=account["display_name"],
            email=account["email"],
            purpose=purpose,
            link=f"{self.console_url}/set-password?token={secret}",
            expires_at=expires,
            language=account.get("language", "vi"),
        )


def weak(password: str, username: str, field: str = "password") -> None:
    found = rules.password_violations(password, username, common_passwords(), field)
    if found:
        raise Refusal.broken(found)


class Accounts(AccountBase):
    """An operator manages its province's accounts; a person reads and changes its own."""

    async def create(self, who: Principal, body: AccountIn, ctx: Context) -> Document:
        broken = rules.username_violations(body.username)
        broken += await self._role_violations(who.tenant, body.role, body.unit, body.endpoints)
        if broken:
            raise Refusal.broken(broken)
        if body.password is not None:
            weak(body.password, body.username)
        now = self.clock.now()
        account: Document = {
            "_id": f"{who.tenant}:{body.username}",
            "tenant": who.tenant,
            **body.model_dump(exclude={"password"}),
            "active": True,
            "password_hash": Passwords.hash(body.password) if body.password else None,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        if await self.store.account(who.tenant, body.username) is not None:
            raise _exists(body.username)
        events = [] if body.password else [await self.link(account, AccessLinkPurpose.INVITE)]
        if not await self.store.create_account(account, events):
            raise _exists(body.username)
        self.wake()
        await self.record(who.tenant, "account_created", body.username, ctx, role=body.role)
        return await self.load(who.tenant, body.username)

    async def listed(self, who: Principal, role: str | None, active: bool | None) -> list[Document]:
        filters: Document = {}
        if role:
            filters["role"] = role
        if active is not None:
            filters["active"] = active
        return await self.store.accounts(who.tenant, filters)

    async def names(self, who: Principal, usernames: Collection[str]) -> dict[str, str]:
        """Username -> full name, for the accounts of the caller's province among
        `usernames` (a page names people, not logins; anyone who may read the page may)."""
        return await self.store.names(who.tenant, usernames) if usernames else {}

    async def get(self, who: Principal, username: str) -> Document:
        return await self.load(who.tenant, username)

    async def update(
        self, who: Principal, username: str, patch: AccountPatch, ctx: Context
    ) -> Document:
        account = await self.load(who.tenant, username)
        changes = patch.model_dump(exclude_unset=True)
        if username == who.subject and changes.get("role", account["role"]) != account["role"]:
            raise Refusal(  # the province's last IT-department account could lock it out
                409,
                "own_account",
                "Không thể tự đổi vai trò của mình; nhờ một cán bộ Sở KH&CN khác đổi giúp.",
                "You cannot change your own role; ask another IT-department operator.",
            )
        after = account | changes
        # only what changes is checked against the directory: an unchanged unit or
        # endpoint later deactivated does not block a new phone number
        units, known = await self.store.directory(
            who.tenant, changes.get("unit"), changes.get("endpoints", [])
        )
        if "unit" not in changes and after.get("unit"):
            units[after["unit"]] = True
        if "endpoints" not in changes:
            known |= dict.fromkeys(after.get("endpoints", []), True)
        broken = rules.role_violations(
            after["role"], after.get("unit"), after.get("endpoints", []), units, known
        )
        if broken:
            raise Refusal.broken(broken)
        was = {f: account.get(f) for f in changes}
        # {was, now} rather than a pair: FerretDB stores no array inside an array
        changed = {f: {"was": was[f], "now": v} for f, v in sorted(changes.items()) if was[f] != v}
        # what the person may see changed: the tokens and calendar links made with the old
        # rights stop at once (they carry them), as a new sign-in carries the new ones
        rights = bool(changed.keys() & {"role", "unit", "endpoints"})
        if rights:
            revoked = [self.revoked(account, "rights_changed")]
            await self.change(
                account, changes | {"sessions": account.get("sessions", 0) + 1}, revoked
            )
        else:
            await self.change(account, changes)
        await self.record(who.tenant, "account_changed", username, ctx, changed=changed)
        if rights:
            await self.record(who.tenant, "tokens_revoked", username, ctx, reason="rights_changed")
        return await self.load(who.tenant, username)

    async def disable(self, who: Principal, username: str, ctx: Context) -> Document:
        account = await self.load(who.tenant, username)
        if username == who.subject:
            raise Refusal(
                409,
                "own_account",
                "Không thể tự khóa tài khoản của mình.",
                "You cannot disable your own account.",
            )
        if account["active"]:
            event = self.revoked(account, "disabled")
            fields = {"active": False, "sessions": account.get("sessions", 0) + 1}
            await self.change(account, fields, [event])
            await self.record(who.tenant, "account_disabled", username, ctx)
            await self.record(who.tenant, "tokens_revoked", username, ctx, reason="disabled")
        return await self.load(who.tenant, username)

    async def enable(self, who: Principal, username: str, ctx: Context) -> Document:
        account = await self.load(who.tenant, username)
        if not account["active"]:
            await self.change(account, {"active": True})
            await self.record(who.tenant, "account_enabled", username, ctx)
        return await self.load(who.tenant, username)

    async def reset_password(self, who: Principal, username: str, ctx: Context) -> Document:
        """The old password stops working, every token is revoked, a link is mailed."""
        account = await self.load(who.tenant, username)
        events = [
            self.revoked(account, "password_reset"),
            await self.link(account, AccessLinkPurpose.RESET),
        ]
        fields = {"password_hash": None, "sessions": account.get("sessions", 0) + 1}
        await self.change(account, fields, events)
        await self.record(who.tenant, "password_reset", username, ctx)
        await self.record(who.tenant, "tokens_revoked", username, ctx, reason="password_reset")
        return await self.load(who.tenant, username)

    async def me(self, who: Principal) -> Document:
        return await self.load(who.tenant, who.subject)

    async def change_password(self, who: Principal, current: str, new: str, ctx: Context) -> None:
        account = await self.load(who.tenant, who.subject)
        hashed = account.get("password_hash")
        if not hashed or not Passwords.verify(current, hashed):
            raise Refusal.broken(
                [
                    Violation(
                        "current",
                        "password.current",
                        rules.STRENGTH_SOURCE,
                        "Mật khẩu hiện tại không đúng.",
                        "The current password is wrong.",
                    )
                ]
            )
        weak(new, who.subject, "new")
        fields = {"password_hash": Passwords.hash(new), "password_changed_at": self.clock.now()}
        await self.change(account, fields)
        await self.record(who.tenant, "password_set", who.subject, ctx)

    async def audit(
        self,
        who: Principal,
        kind: str | None,
        start: datetime | None,
        end: datetime | None,
        username: str | None,
        limit: int = 1000,
    ) -> list[Document]:
        filters: Document = {}
        if kind:
            filters["kind"] = kind
        if username:
            filters["username"] = username
        span = {op: at for op, at in (("$gte", start), ("$lt", end)) if at is not None}
        if span:
            filters["at"] = span
        return await self.store.audit_rows(who.tenant, filters, limit)

    async def _role_violations(
        self, tenant: str, role: str, unit: str | None, endpoints: Sequence[str]
    ) -> list[Violation]:
        units, known = await self.store.directory(tenant, unit, endpoints)
        return rules.role_violations(role, unit, endpoints, units, known)


def _exists(username: str) -> Refusal:
    return Refusal(
        409,
        "account_exists",
        f"Tên đăng nhập {username} đã có.",
        f"The username {username} is taken.",
    )
