"""The test OpenID provider (zitadel/oidc, infra/oidc) is a real one: a person signs in
through its login form, the relying party (Authlib) exchanges the code with PKCE, and the
id_token verifies against the provider's published keys and names the person by e-mail."""

from __future__ import annotations

import time

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from infra.oidc_client import OidcRefusedError, discovery, sign_in
from infra.stack import OidcProvider


def _verified_claims(provider: OidcProvider, id_token: str, nonce: str) -> dict[str, object]:
    keys = KeySet.import_key_set(httpx.get(discovery(provider)["jwks_uri"]).json())
    token = jwt.decode(id_token, keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": provider.issuer},
        aud={"essential": True, "value": provider.client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
        sub={"essential": True},
    ).validate(token.claims)
    return dict(token.claims)


def test_discovery_offers_code_flow_with_pkce(oidc_provider: OidcProvider) -> None:
    metadata = discovery(oidc_provider)
    assert metadata["issuer"] == oidc_provider.issuer
    assert "code" in metadata["response_types_supported"]
    assert "S256" in metadata["code_challenge_methods_supported"]
    assert "RS256" in metadata["id_token_signing_alg_values_supported"]


def test_a_person_signs_in_and_the_id_token_names_them_by_email(
    oidc_provider: OidcProvider,
) -> None:
    person = oidc_provider.users[0]
    signed_in = sign_in(oidc_provider, person.username, person.password)
    claims = _verified_claims(oidc_provider, signed_in.token["id_token"], signed_in.nonce)
    assert claims["sub"] == person.id
    assert claims["email"] == person.email
    assert claims["preferred_username"] == person.username
    assert int(str(claims["exp"])) > time.time()


def test_an_id_token_from_someone_else_does_not_verify(oidc_provider: OidcProvider) -> None:
    person = oidc_provider.users[1]
    signed_in = sign_in(oidc_provider, person.username, person.password)
    header, payload, signature = signed_in.token["id_token"].split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    with pytest.raises(JoseError):
        _verified_claims(oidc_provider, forged, signed_in.nonce)


def test_a_wrong_password_gets_the_login_form_again(oidc_provider: OidcProvider) -> None:
    person = oidc_provider.users[0]
    with pytest.raises(OidcRefusedError, match="username or password wrong"):
        sign_in(oidc_provider, person.username, person.password + "x")


def test_the_code_is_worthless_without_its_pkce_verifier(oidc_provider: OidcProvider) -> None:
    person = oidc_provider.users[0]
    with pytest.raises(OidcRefusedError, match="invalid_grant"):
        sign_in(oidc_provider, person.username, person.password, code_verifier="x" * 48)
