"""The public keys of the provinces' OpenID providers: each issuer's discovery document
names its JWKS, fetched once and kept `ttl`; a token signed with a key we do not know yet
(the provider rotated) fetches again, at most once per `min_refresh`."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from joserfc.jwk import KeySet


class KeysUnavailable(Exception):
    """The provider's discovery document or JWKS could not be read."""


class IssuerKeys:
    def __init__(
        self,
        ttl: float = 600.0,
        min_refresh: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.ttl, self.min_refresh = ttl, min_refresh
        self._transport = transport
        self._cache: dict[str, tuple[float, KeySet]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def key_set(self, issuer: str, *, refresh: bool = False) -> KeySet:
        async with self._locks.setdefault(issuer, asyncio.Lock()):
            cached = self._cache.get(issuer)
            if cached:
                age = time.monotonic() - cached[0]
                if (age < self.ttl and not refresh) or (refresh and age < self.min_refresh):
                    return cached[1]
            keys = await self._fetch(issuer)
            self._cache[issuer] = (time.monotonic(), keys)
            return keys

    async def _fetch(self, issuer: str) -> KeySet:
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=10) as http:
                discovery: dict[str, Any] = (await http.get(url)).raise_for_status().json()
                if discovery.get("issuer") != issuer:
                    raise KeysUnavailable(f"{url} names issuer {discovery.get('issuer')!r}")
                jwks = (await http.get(discovery["jwks_uri"])).raise_for_status().json()
            return KeySet.import_key_set(jwks)
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            raise KeysUnavailable(f"{url}: {exc}") from exc
