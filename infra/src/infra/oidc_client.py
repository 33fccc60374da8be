"""Signing in through the test OpenID provider as a relying party and a person would.

The relying party's side is Authlib's OAuth 2 client (authorization code + PKCE S256,
a nonce, the client secret by HTTP Basic); the person's side is a browser that opens the
provider's login form, fills it in and follows the redirects back to the client's
redirect URI (never fetched: the code is read from it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client

from infra.stack import OidcProvider


class OidcRefusedError(Exception):
    """The provider refused: its login form came back (wrong password) or the code did not
    buy a token (wrong PKCE verifier, code used twice)."""


@dataclass(frozen=True)
class OidcSignIn:
    token: dict[str, Any]
    """The token response: access_token, id_token, expires_in, ..."""
    nonce: str
    """The nonce the relying party sent; the id_token must carry it back."""


def discovery(provider: OidcProvider) -> dict[str, Any]:
    answer = httpx.get(provider.issuer + ".well-known/openid-configuration", timeout=10)
    document: dict[str, Any] = answer.raise_for_status().json()
    return document


def _form_field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}"\s+value="([^"]*)"', html)
    if not found:
        raise OidcRefusedError(f"no field {name} in the provider's page:\n{html[:2000]}")
    return found.group(1)


def sign_in(
    provider: OidcProvider, username: str, password: str, *, code_verifier: str | None = None
) -> OidcSignIn:
    """Authorization code + PKCE from start to token; `code_verifier` replaces the right
    verifier at the exchange (to prove the provider checks it)."""
    metadata = discovery(provider)
    verifier, nonce = generate_token(48), generate_token(20)
    redirect_uri = provider.redirect_uris[0]
    with OAuth2Client(
        provider.client_id,
        provider.client_secret,
        scope="openid email profile",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=10,
    ) as client:
        url, state = client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        with httpx.Client(base_url=provider.issuer, timeout=10) as browser:
            page = browser.get(url, follow_redirects=True)  # to the provider's login form
            page.raise_for_status()
            form = {"id": _form_field(page.text, "id"), "username": username, "password": password}
            answer = browser.post("/login/username", data=form)
            if not answer.is_redirect:
                raise OidcRefusedError(f"the provider did not accept the sign-in:\n{answer.text}")
            location = answer.headers["location"]
            while not location.startswith(redirect_uri):  # the provider's own callback hops
                location = browser.get(location).headers["location"]
        try:
            token = client.fetch_token(
                metadata["token_endpoint"],
                authorization_response=location,
                state=state,
                code_verifier=code_verifier or verifier,
            )
        except AuthlibBaseError as exc:
            raise OidcRefusedError(str(exc)) from exc
    return OidcSignIn(dict(token), nonce)
