"""Single sign-on against a REAL OpenID provider (zitadel/oidc, started by the suite on
127.0.0.1): a person signs in through the provider's login form with authorization code +
PKCE (Authlib), registration checks the id_token against the provider's keys, matches the
ONE active account by the province's chosen claim and answers as /auth/login does;
anybody else is refused and no account is ever created."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from registration_samples import TENANT, Registration

from hnth_kit.settings import REPO_ROOT
from infra.oidc_client import sign_in
from infra.stack import OidcProvider, OidcUser


def _data_dir(tmp: Path, provider: OidcProvider, match_claim: str) -> Path:
    document = yaml.safe_load((REPO_ROOT / "data" / f"{TENANT}.yaml").read_text("utf-8"))
    document["sso"] = {
        "issuer": provider.issuer,
        "client_id": provider.client_id,
        "match_claim": match_claim,
    }
    folder = tmp / match_claim
    folder.mkdir()
    (folder / f"{TENANT}.yaml").write_text(yaml.safe_dump(document, allow_unicode=True))
    return folder


@contextlib.asynccontextmanager
async def province(
    start_registration: Callable[..., Any], tmp: Path, provider: OidcProvider, claim: str
) -> AsyncIterator[Registration]:
    async with start_registration(directory_dir=_data_dir(tmp, provider, claim)) as started:
        started.clock.set(datetime.now(UTC))  # the provider's tokens carry real times
        yield started


async def id_token_of(provider: OidcProvider, person: OidcUser) -> str:
    signed_in = await asyncio.to_thread(sign_in, provider, person.username, person.password)
    return str(signed_in.token["id_token"])


async def create(registration: Registration, username: str, **fields: Any) -> None:
    body = {"username": username, "display_name": "Cán bộ", "role": "viewer", **fields}
    answer = await registration.http.post(
        "/accounts", json=body, headers=registration.headers("operator")
    )
    assert answer.status_code == 201, answer.text


async def sso(registration: Registration, id_token: str) -> httpx.Response:
    return await registration.http.post("/auth/sso", json={"tenant": TENANT, "id_token": id_token})


async def audit(registration: Registration, kind: str) -> list[dict[str, Any]]:
    answer = await registration.http.get(
        "/audit", params={"kind": kind}, headers=registration.headers("operator")
    )
    rows: list[dict[str, Any]] = answer.json()
    return rows


async def test_a_person_signs_in_by_email_and_gets_the_login_tokens(
    start_registration, tmp_path, oidc_provider: OidcProvider
) -> None:
    an = oidc_provider.users[0]
    async with province(start_registration, tmp_path, oidc_provider, "email") as registration:
        await create(registration, "an.nv", email=an.email.upper())  # any case matches
        id_token = await id_token_of(oidc_provider, an)

        answer = await sso(registration, id_token)
        assert answer.status_code == 200, answer.text
        tokens = answer.json()
        assert set(tokens) >= {"access_token", "token_type", "expires_in", "refresh_token"}
        me = await registration.http.get(
            "/accounts/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert me.json()["username"] == "an.nv"
        refreshed = await registration.http.post(
            "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 200, refreshed.text
        assert [r["username"] for r in await audit(registration, "sso_login")] == ["an.nv"]

        again = await sso(registration, id_token)  # an id_token buys one sign-in
        assert again.status_code == 401
        assert again.json()["code"] == "sso_invalid_token"


async def test_an_unknown_person_is_refused_and_no_account_is_made(
    start_registration, tmp_path, oidc_provider: OidcProvider
) -> None:
    an, stranger = oidc_provider.users[0], oidc_provider.users[2]
    async with province(start_registration, tmp_path, oidc_provider, "email") as registration:
        await create(registration, "an.nv", email=an.email)
        await create(registration, "an.nv2", email=an.email)  # two accounts: never guess

        for person in (stranger, an):
            answer = await sso(registration, await id_token_of(oidc_provider, person))
            assert answer.status_code == 401, answer.text
            assert answer.json()["code"] == "sso_unknown_person"
            assert "tài khoản" in answer.json()["message_vi"]
        listed = await registration.http.get("/accounts", headers=registration.headers())
        assert sorted(a["username"] for a in listed.json()) == ["an.nv", "an.nv2"]
        refused = await audit(registration, "sso_refused")
        assert {r["detail"]["claim"] for r in refused} == {stranger.email, an.email}


async def test_a_province_matching_by_username_and_a_disabled_account(
    start_registration, tmp_path, oidc_provider: OidcProvider
) -> None:
    binh = oidc_provider.users[1]
    claim = "preferred_username"
    async with province(start_registration, tmp_path, oidc_provider, claim) as registration:
        await create(registration, binh.username, password="dung-quen-mat-khau-2026")
        answer = await sso(registration, await id_token_of(oidc_provider, binh))
        assert answer.status_code == 200, answer.text

        await registration.http.post(
            f"/accounts/{binh.username}/disable", headers=registration.headers()
        )
        answer = await sso(registration, await id_token_of(oidc_provider, binh))
        assert answer.status_code == 401
        assert answer.json()["code"] == "sso_unknown_person"


async def test_a_tampered_token_or_a_province_without_sso_is_refused(
    start_registration, tmp_path, oidc_provider: OidcProvider
) -> None:
    an = oidc_provider.users[0]
    async with province(start_registration, tmp_path, oidc_provider, "email") as registration:
        await create(registration, "an.nv", email=an.email)
        header, payload, signature = (await id_token_of(oidc_provider, an)).split(".")
        answer = await sso(registration, f"{header}.{payload}.{signature[::-1]}")
        assert answer.status_code == 401
        assert answer.json()["code"] == "sso_invalid_token"
        answer = await registration.http.post(
            "/auth/sso", json={"tenant": "lang-son", "id_token": "x.y.z"}
        )
        assert answer.status_code == 404
        assert answer.json()["code"] == "sso_not_configured"
