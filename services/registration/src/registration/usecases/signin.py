"""Signing in: password (+ TOTP) for tokens, refresh-token rotation, signing out, the
one-time set-password link, TOTP enrolment.

A refresh token is an opaque random secret stored as its hash, in a session family
(the tokens rotated from one sign-in). Using one inserts a row keyed by its hash, so of two
requests racing with the same token exactly one wins; a rotated token coming back means
it leaked: the whole family is revoked. An account's `sessions` counter, bumped when it is
disabled, its password reset or it signs out everywhere, ends every family at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Protocol

import pyotp

from hnth_kit.auth import Principal
from hnth_kit.mongo import Document
from hnth_kit.refusal import Refusal, Violation
from registration.account_commands import LoginIn, PasswordSetOut, SetPasswordIn
from registration.domain import accounts as rules
from registration.usecases.accounts import (
    AccountBase,
    Context,
    Passwords,
    digest,
    new_secret,
    weak,
)

TOTP_SOURCE = "HNTH Ops: mã xác thực hai lớp TOTP (RFC 6238), vì mật khẩu có thể bị lộ"


class TokenIssuer(Protocol):
    """Signs an access token (the kit's signing keys, behind this port)."""

    def __call__(
        self,
        *,
        role: str,
        tenant: str,
        subject: str,
        unit: str | None,
        endpoints: Sequence[str],
        name: str | None,
        ttl: timedelta,
        now: datetime,
    ) -> str: ...


@cache
def decoy() -> str:
    """A hash to verify against when the account is unknown, so a wrong username takes
    as long as a wrong password."""
    return Passwords.hash(new_secret())


def invalid_credentials() -> Refusal:
    return Refusal(
        401,
        "invalid_credentials",
        "Tên đăng nhập hoặc mật khẩu không đúng.",
        "Wrong username or password.",
    )


def _invalid_refresh() -> Refusal:
    return Refusal(
        401,
        "invalid_refresh",
        "Phiên đăng nhập đã hết hạn; hãy đăng nhập lại.",
        "The session has ended; sign in again.",
    )


def _invalid_link() -> Refusal:
    return Refusal(
        400,
        "invalid_link",
        "Liên kết không hợp lệ, đã dùng hoặc đã hết hạn.",
        "The link is invalid, used or expired.",
    )


class SignIn(AccountBase):
    def __init__(self, *args: Any, issuer: TokenIssuer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.issuer = issuer

    async def login(self, body: LoginIn, ctx: Context) -> dict[str, Any]:
        try:
            knobs = rules.sign_in_policy(self.policy_for(body.tenant))
        except OSError:
            raise invalid_credentials() from None  # no such province
        tenant, username, now = body.tenant, body.username, self.clock.now()
        ctx = Context(actor=username, ip=ctx.ip)
        attempts = await self.store.attempts(tenant, username, now - knobs.lockout_window)
        until = rules.locked_until(attempts, now, knobs.lockout_failures, knobs.lockout_window)
        if until is not None:
            await self.record(tenant, "locked_out", username, ctx, until=until.isoformat())
            raise Refusal(
                429,
                "locked_out",
                "Đăng nhập sai quá nhiều lần; hãy thử lại sau.",
                "Too many failed sign-ins; try again later.",
                headers={"Retry-After": str(rules.retry_after(until, now))},
                retry_after=rules.retry_after(until, now),
            )
        account = await self.store.account(tenant, username)
        hashed = (account or {}).get("password_hash") or decoy()
        if not (Passwords.verify(body.password, hashed) and account and account["active"]):
            await self._failed(tenant, username, ctx, "password")
            raise invalid_credentials()
        if account.get("totp_secret") and not self._otp_ok(account["totp_secret"], body.otp):
            await self._failed(tenant, username, ctx, "otp")
            raise Refusal(
                401,
                "otp_required",
                "Cần mã xác thực hai lớp (ứng dụng xác thực).",
                "A one-time code from the authenticator app is required.",
            )
        await self.store.record_attempt(tenant, username, now, True)
        await self.record(tenant, "login", username, ctx)
        tokens = await self._issue(account, uuid.uuid4().hex, knobs)
        if rules.must_enrol(account["role"], bool(account.get("totp_secret")), knobs):
            tokens["totp_enrollment_required"] = True
        return tokens

    async def refresh(self, token: str, ctx: Context) -> dict[str, Any]:
        now, key = self.clock.now(), digest(token)
        row = await self.store.token("refresh", key)
        if (
            row is None
            or row["expires_at"] <= now
            or await self.store.family_revoked(row["family"])
        ):
            raise _invalid_refresh()
        if not await self.store.use_token("refresh", key, now):
            # a rotated token used again: someone holds a copy; end the whole session
            await self.store.revoke_family(row["family"], now)
            await self.record(
                row["tenant"], "tokens_revoked", row["username"], ctx, reason="refresh_reuse"
            )
            raise _invalid_refresh()
        account = await self.store.account(row["tenant"], row["username"])
        if not account or not account["active"] or account.get("sessions", 0) != row["sessions"]:
            raise _invalid_refresh()
        knobs = rules.sign_in_policy(self.policy_for(row["tenant"]))
        return await self._issue(account, row["family"], knobs)

    async def logout(self, token: str, ctx: Context) -> None:
        row = await self.store.token("refresh", digest(token))
        if row is not None:
            await self.store.revoke_family(row["family"], self.clock.now())
            ctx = Context(actor=row["username"], ip=ctx.ip)
            await self.record(row["tenant"], "logout", row["username"], ctx)

    async def logout_all(self, who: Principal, ctx: Context) -> None:
        account = await self.load(who.tenant, who.subject)
        event = self.revoked(account, "signed_out_everywhere")
        await self.change(account, {"sessions": account.get("sessions", 0) + 1}, [event])
        await self.record(who.tenant, "logout", who.subject, ctx, everywhere=True)
        await self.record(
            who.tenant, "tokens_revoked", who.subject, ctx, reason="signed_out_everywhere"
        )

    async def _link_account(self, key: str, now: datetime) -> Document:
        """The account a set-password link is for, while the link may be used."""
        row = await self.store.token("link", key)
        if row is None or row["expires_at"] <= now:
            raise _invalid_link()
        account = await self.store.account(row["tenant"], row["username"])
        changed = (account or {}).get("password_changed_at")
        if account is None or (changed is not None and row["issued_at"] < changed):
            raise _invalid_link()  # a password was set since this link was sent (or with it)
        return account

    async def link_holder(self, token: str) -> PasswordSetOut:
        """Whose password a link sets, asked before the form is shown: a used or expired
        link says so at once rather than after a password is typed."""
        key = digest(token)
        account = await self._link_account(key, self.clock.now())
        if await self.store.token_used("link", key):
            raise _invalid_link()
        return PasswordSetOut(tenant=account["tenant"], username=account["username"])

    async def set_password(self, body: SetPasswordIn, ctx: Context) -> PasswordSetOut:
        now, key = self.clock.now(), digest(body.token)
        account = await self._link_account(key, now)
        weak(body.password, account["username"])  # before the link is used up
        if not await self.store.use_token("link", key, now):
            raise _invalid_link()
        fields = {"password_hash": Passwords.hash(body.password), "password_changed_at": now}
        await self.change(account, fields)
        ctx = Context(actor=account["username"], ip=ctx.ip)
        await self.record(account["tenant"], "password_set", account["username"], ctx)
        return PasswordSetOut(tenant=account["tenant"], username=account["username"])

    async def totp_begin(self, who: Principal) -> dict[str, str]:
        account = await self.load(who.tenant, who.subject)
        secret = pyotp.random_base32()
        await self.change(account, {"totp_pending": secret})
        uri = pyotp.TOTP(secret).provisioning_uri(
            name=f"{who.subject}@{who.tenant}", issuer_name="HNTH Ops"
        )
        return {"secret": secret, "otpauth_uri": uri}

    async def totp_confirm(self, who: Principal, otp: str, ctx: Context) -> None:
        account = await self.load(who.tenant, who.subject)
        pending = account.get("totp_pending")
        if not pending or not self._otp_ok(pending, otp):
            raise Refusal.broken(
                [
                    Violation(
                        "otp",
                        "totp.code",
                        TOTP_SOURCE,
                        "Mã không đúng; hãy nhập mã đang hiện trong ứng dụng.",
                        "Wrong code; enter the one the app shows now.",
                    )
                ]
            )
        await self.change(account, {"totp_secret": pending}, unset=["totp_pending"])
        await self.record(who.tenant, "totp_enrolled", who.subject, ctx)

    async def totp_remove(self, who: Principal, ctx: Context) -> None:
        knobs = rules.sign_in_policy(self.policy_for(who.tenant))
        if who.role in knobs.totp_roles:
            raise Refusal(
                403,
                "totp_required",
                "Vai trò này bắt buộc dùng xác thực hai lớp.",
                "This role must use two-factor authentication.",
            )
        account = await self.load(who.tenant, who.subject)
        await self.change(account, {}, unset=["totp_secret", "totp_pending"])
        await self.record(who.tenant, "account_changed", who.subject, ctx, totp=False)

    def _otp_ok(self, secret: str, otp: str | None) -> bool:
        return bool(otp) and pyotp.TOTP(secret).verify(
            str(otp), for_time=self.clock.now(), valid_window=1
        )

    async def _failed(self, tenant: str, username: str, ctx: Context, why: str) -> None:
        await self.store.record_attempt(tenant, username, self.clock.now(), False)
        await self.record(tenant, "login_failed", username, ctx, reason=why)

    async def _issue(
        self, account: Document, family: str, knobs: rules.SignInPolicy
    ) -> dict[str, Any]:
        now, secret = self.clock.now(), new_secret()
        await self.store.save_token(
            "refresh",
            {
                "_id": digest(secret),
                "tenant": account["tenant"],
                "username": account["username"],
                "family": family,
                "sessions": account.get("sessions", 0),
                "issued_at": now,
                "expires_at": now + knobs.refresh_ttl,
            },
        )
        access = self.issuer(
            role=account["role"],
            tenant=account["tenant"],
            subject=account["username"],
            unit=account.get("unit"),
            endpoints=tuple(account.get("endpoints") or ()),
            name=account.get("display_name"),
            ttl=knobs.access_ttl,
            now=now,
        )
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": int(knobs.access_ttl.total_seconds()),
            "refresh_token": secret,
            "refresh_expires_in": int(knobs.refresh_ttl.total_seconds()),
        }
