"""Signing in through the province's OpenID provider, the relying party's side: Authlib's
OAuth 2 client (authorization code + PKCE S256, `state` and a `nonce` kept in the
session), the client secret from the console's environment, then the id_token handed to
registration's `POST /auth/sso`, which checks it and names the account.

Which provinces have a provider (issuer, client id) the console asks registration
(`GET /auth/sso/providers`): registration reads `sso:` in data/<tenant>.yaml and checks
the id_tokens against it, so the console can never send people to another provider
than the one registration trusts, and needs no copy of the data files."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client

from hnth_console.backends import BackendError, Backends

log = logging.getLogger(__name__)

SCOPE = "openid email profile"
PROVIDERS_TTL = 60.0
"""Seconds the list of providers is kept before registration is asked again."""
METADATA_TTL = 600.0
"""Seconds a provider's discovery document is kept."""


class SsoUnavailable(Exception):
    """The provider, or the client secret, is missing: sign in with a password instead."""


@dataclass(frozen=True)
class Provider:
    tenant: str
    issuer: str
    client_id: str


def secret_name(tenant: str) -> str:
    """`HNTH_SSO_CLIENT_SECRET_TUYEN_QUANG` for tuyen-quang."""
    return "HNTH_SSO_CLIENT_SECRET_" + "".join(c if c.isalnum() else "_" for c in tenant.upper())


def client_secret(tenant: str, environ: Mapping[str, str]) -> str | None:
    """The province's client secret (`HNTH_SSO_CLIENT_SECRET_<TENANT>`), else the one
    every province shares (`HNTH_SSO_CLIENT_SECRET`); None when neither is set."""
    return environ.get(secret_name(tenant)) or environ.get("HNTH_SSO_CLIENT_SECRET") or None


@dataclass(frozen=True)
class Started:
    """Where to send the person, and what the callback must find again in the session."""

    url: str
    state: str
    nonce: str
    verifier: str


class Sso:
    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """`transport`: for tests, a stand-in for the providers."""
        self.environ = os.environ if environ is None else environ
        self.transport = transport
        self._providers: tuple[float, dict[str, Provider]] | None = None
        self._metadata: dict[str, tuple[float, dict[str, Any]]] = {}

    async def providers(self, backends: Backends, lang: str) -> dict[str, Provider]:
        """The provinces whose people may sign in through their provider (none while
        registration does not answer: the password sign-in still works then)."""
        now = time.monotonic()
        if self._providers and self._providers[0] > now:
            return self._providers[1]
        try:
            found = await backends.get("registration", "/auth/sso/providers", "", lang)
        except BackendError as exc:
            log.warning("cannot read the SSO providers from registration: %s", exc)
            return {}
        providers = {
            p["tenant"]: Provider(str(p["tenant"]), str(p["issuer"]), str(p["client_id"]))
            for p in found
            if isinstance(p, dict)
        }
        self._providers = (now + PROVIDERS_TTL, providers)
        return providers

    def _client(self, provider: Provider, redirect_uri: str) -> AsyncOAuth2Client:
        secret = client_secret(provider.tenant, self.environ)
        if secret is None:
            log.warning("%s is unset: no SSO for %s", secret_name(provider.tenant), provider.tenant)
            raise SsoUnavailable(f"no client secret for {provider.tenant}")
        return AsyncOAuth2Client(
            provider.client_id,
            secret,
            scope=SCOPE,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=10,
            transport=self.transport,
        )

    async def metadata(self, issuer: str) -> dict[str, Any]:
        """The provider's discovery document (kept 10 minutes)."""
        now = time.monotonic()
        kept = self._metadata.get(issuer)
        if kept and kept[0] > now:
            return kept[1]
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            async with httpx.AsyncClient(timeout=10, transport=self.transport) as http:
                document: dict[str, Any] = (await http.get(url)).raise_for_status().json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SsoUnavailable(f"{url}: {exc}") from exc
        self._metadata[issuer] = (now + METADATA_TTL, document)
        return document

    async def start(self, provider: Provider, redirect_uri: str) -> Started:
        """The provider's authorization URL with a fresh state, nonce and PKCE verifier."""
        client = self._client(provider, redirect_uri)
        async with client:
            endpoint = (await self.metadata(provider.issuer))["authorization_endpoint"]
            verifier, nonce = generate_token(48), generate_token(24)
            url, state = client.create_authorization_url(
                endpoint, code_verifier=verifier, nonce=nonce
            )
        return Started(str(url), str(state), nonce, verifier)

    async def exchange(
        self, provider: Provider, redirect_uri: str, code: str, verifier: str
    ) -> str:
        """The id_token the code buys (with the PKCE verifier and the client secret)."""
        client = self._client(provider, redirect_uri)
        async with client:
            endpoint = (await self.metadata(provider.issuer))["token_endpoint"]
            try:
                token = await client.fetch_token(endpoint, code=code, code_verifier=verifier)
            except (AuthlibBaseError, httpx.HTTPError) as exc:
                raise SsoUnavailable(f"the code bought no token: {exc}") from exc
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SsoUnavailable("the provider answered no id_token")
        return id_token
