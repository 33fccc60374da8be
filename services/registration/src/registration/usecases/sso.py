"""Signing in through the province's OpenID provider: the console did the authorization
code + PKCE flow and hands over the id_token; registration checks it against the
provider's published keys, finds the ONE active account the province's chosen claim
names (never creates one) and answers as `/auth/login` does."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from hnth_kit.refusal import Refusal
from registration.domain import accounts as rules
from registration.domain.sso import NotForUs, SsoConfig, only_match, person_claim
from registration.sso_keys import KeysUnavailable
from registration.usecases.accounts import Context, digest
from registration.usecases.signin import SignIn

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]


class KeySource(Protocol):
    async def key_set(self, issuer: str, *, refresh: bool = False) -> KeySet: ...


class UsedTokens(Protocol):
    async def first_use(self, digest: str, tenant: str, at: datetime) -> bool: ...


def unknown_person() -> Refusal:
    return Refusal(
        401,
        "sso_unknown_person",
        "Không tìm thấy tài khoản HNTH Ops của người này; hãy nhờ quản trị viên của tỉnh "
        "tạo tài khoản (cùng địa chỉ e-mail hoặc tên đăng nhập).",
        "No HNTH Ops account belongs to this person; ask the province's operator to create "
        "one (with the same e-mail address or username).",
    )


def invalid_token() -> Refusal:
    return Refusal(
        401,
        "sso_invalid_token",
        "Thông tin đăng nhập từ hệ thống đăng nhập một lần không hợp lệ; hãy đăng nhập lại.",
        "The single sign-on token is not valid; sign in again.",
    )


class SsoSignIn(SignIn):
    """`SignIn`'s tokens for a person the province's OpenID provider vouches for."""

    def __init__(
        self,
        *args: Any,
        keys: KeySource,
        used: UsedTokens,
        configs: Callable[[], Mapping[str, SsoConfig]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.keys, self.used, self.configs = keys, used, configs

    def providers(self, tenant: str | None = None) -> list[tuple[str, SsoConfig]]:
        """The provinces that sign in through their own OpenID provider (all, or `tenant`'s),
        for the console to send people there: public facts, never the client secret."""
        found = sorted(self.configs().items())
        return [(code, config) for code, config in found if tenant in (None, code)]

    async def login_sso(self, tenant: str, id_token: str, ctx: Context) -> dict[str, Any]:
        config = self.configs().get(tenant)
        if config is None:
            raise Refusal(
                404,
                "sso_not_configured",
                "Tỉnh này không dùng đăng nhập một lần.",
                "This province has no single sign-on.",
            )
        now = self.clock.now()
        try:
            claims = await self._verified(config, id_token)
            value = person_claim(claims, config, now)
        except NotForUs as why:
            await self.record(tenant, "sso_refused", None, ctx, reason=why.reason)
            raise invalid_token() from None
        ctx = Context(actor=value, ip=ctx.ip)
        account = only_match(
            await self.store.accounts(tenant, {"active": True}), config.match_claim, value
        )
        if account is None:
            await self.record(
                tenant, "sso_refused", None, ctx, reason="unknown_person", claim=value
            )
            raise unknown_person()
        if not await self.used.first_use(digest(id_token), tenant, now):
            await self.record(tenant, "sso_refused", account["username"], ctx, reason="reused")
            raise invalid_token()
        username = account["username"]
        await self.record(tenant, "sso_login", username, ctx, issuer=config.issuer)
        knobs = rules.sign_in_policy(self.policy_for(tenant))
        return await self._issue(account, uuid.uuid4().hex, knobs)

    async def _verified(self, config: SsoConfig, id_token: str) -> dict[str, Any]:
        """The token's claims once its signature checks with one of the issuer's keys
        (fetched again once if the provider may have rotated them)."""
        failure: Exception | None = None
        for refresh in (False, True):
            try:
                keys = await self.keys.key_set(config.issuer, refresh=refresh)
            except KeysUnavailable:
                raise Refusal(
                    503,
                    "sso_unavailable",
                    "Hệ thống đăng nhập một lần của tỉnh không trả lời; hãy thử lại sau.",
                    "The province's single sign-on does not answer; try again later.",
                ) from None
            try:
                return dict(jwt.decode(id_token, keys, algorithms=ALGORITHMS).claims)
            except (JoseError, ValueError) as exc:
                failure = exc
        raise NotForUs(f"signature: {type(failure).__name__}")
