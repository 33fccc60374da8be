"""Single sign-on without a provider, a broker or a database: the id_token rules (pure)
and the use case over an in-memory account store with a key made here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from hnth_contracts.policy import load_policy
from hnth_kit.clock import ManualClock
from hnth_kit.refusal import Refusal
from hnth_kit.settings import REPO_ROOT
from registration.domain.sso import NotForUs, SsoConfig, only_match, person_claim
from registration.usecases.accounts import Context
from registration.usecases.sso import SsoSignIn

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
TENANT = "tuyen-quang"
CONFIG = SsoConfig("https://sso.tuyenquang.gov.vn/", "hnth-ops", "email")


def claims(**changes: Any) -> dict[str, Any]:
    base = {
        "iss": CONFIG.issuer,
        "aud": ["hnth-ops"],
        "sub": "u-1",
        "iat": int(NOW.timestamp()) - 10,
        "exp": int((NOW + timedelta(hours=1)).timestamp()),
        "email": "An.Nguyen@TuyenQuang.gov.vn",
        "email_verified": True,
        "preferred_username": "an.nguyen",
    }
    return {k: v for k, v in (base | changes).items() if v is not None}


def test_a_fresh_token_for_us_names_the_person_by_the_chosen_claim() -> None:
    assert person_claim(claims(), CONFIG, NOW) == "an.nguyen@tuyenquang.gov.vn"
    by_username = SsoConfig(CONFIG.issuer, CONFIG.client_id, "preferred_username")
    assert person_claim(claims(), by_username, NOW) == "an.nguyen"
    assert person_claim(claims(aud="hnth-ops"), CONFIG, NOW)  # a single audience string


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"iss": "https://evil.example/"}, "wrong_issuer"),
        ({"aud": ["someone-else"]}, "wrong_audience"),
        ({"aud": ["hnth-ops", "other"], "azp": "other"}, "wrong_audience"),
        ({"exp": int((NOW - timedelta(minutes=5)).timestamp())}, "expired"),
        ({"iat": int((NOW - timedelta(minutes=6)).timestamp())}, "stale"),
        ({"iat": int((NOW + timedelta(minutes=5)).timestamp())}, "stale"),
        ({"iat": None}, "iat_missing"),
        ({"email": None}, "email_missing"),
        ({"email_verified": False}, "email_unverified"),
    ],
)
def test_a_token_not_for_us_now_is_refused(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(NotForUs) as refused:
        person_claim(claims(**changes), CONFIG, NOW)
    assert refused.value.reason == reason


def test_only_one_active_account_is_ever_matched() -> None:
    a = {"username": "an", "email": "AN@x.vn", "active": True}
    b = {"username": "an2", "email": "an@x.vn", "active": False}
    assert only_match([a, b], "email", "an@x.vn") == a
    assert only_match([a, b | {"active": True}], "email", "an@x.vn") is None
    assert only_match([a], "email", "binh@x.vn") is None
    assert only_match([a, b], "preferred_username", "an") == a
    assert only_match([b], "preferred_username", "an2") is None


class Accounts:
    """The few AccountStore methods single sign-on uses, in memory."""

    def __init__(self, *accounts: dict[str, Any]) -> None:
        self.rows = list(accounts)
        self.audited: list[dict[str, Any]] = []
        self.tokens: list[dict[str, Any]] = []

    async def accounts(self, tenant: str, filters: dict[str, Any]) -> list[dict[str, Any]]:
        return [a for a in self.rows if all(a.get(k) == v for k, v in filters.items())]

    async def audit(self, row: dict[str, Any]) -> None:
        self.audited.append(row)

    async def save_token(self, kind: str, row: dict[str, Any]) -> None:
        self.tokens.append(row)


class Keys:
    def __init__(self, key: RSAKey) -> None:
        self.key, self.fetched = key, 0

    async def key_set(self, issuer: str, *, refresh: bool = False) -> KeySet:
        self.fetched += 1
        return KeySet([self.key])


class Used:
    def __init__(self) -> None:
        self.seen: set[str] = set()

    async def first_use(self, digest: str, tenant: str, at: datetime) -> bool:
        fresh = digest not in self.seen
        self.seen.add(digest)
        return fresh


def case(store: Accounts, key: RSAKey) -> SsoSignIn:
    def issue(**claims: Any) -> str:
        return f"access-for-{claims['subject']}"

    return SsoSignIn(
        store,
        lambda tenant: load_policy(REPO_ROOT / "policies", tenant),
        ManualClock(NOW),
        issuer=issue,
        keys=Keys(key),
        used=Used(),
        configs=lambda: {TENANT: CONFIG},
    )


def signed(key: RSAKey, **changes: Any) -> str:
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims(**changes), key)


async def test_the_use_case_signs_in_the_matched_account_once_per_token() -> None:
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    account = {"tenant": TENANT, "username": "an.nv", "role": "viewer", "active": True}
    store = Accounts(account | {"email": "an.nguyen@tuyenquang.gov.vn"})
    sso, token = case(store, key), signed(key)

    tokens = await sso.login_sso(TENANT, token, Context())
    assert tokens["access_token"] == "access-for-an.nv"
    assert tokens["token_type"] == "bearer"
    assert [row["kind"] for row in store.audited] == ["sso_login"]
    with pytest.raises(Refusal) as again:
        await sso.login_sso(TENANT, token, Context())
    assert again.value.code == "sso_invalid_token"


async def test_the_use_case_refuses_a_stranger_a_forgery_and_creates_nobody() -> None:
    key, other = (RSAKey.generate_key(2048, parameters={"kid": k}) for k in ("k1", "k2"))
    store = Accounts({"tenant": TENANT, "username": "an.nv", "active": True, "email": "x@y"})
    sso = case(store, key)
    with pytest.raises(Refusal) as stranger:
        await sso.login_sso(TENANT, signed(key), Context())
    assert (stranger.value.status, stranger.value.code) == (401, "sso_unknown_person")
    with pytest.raises(Refusal) as forged:
        await sso.login_sso(TENANT, signed(other), Context())
    assert forged.value.code == "sso_invalid_token"
    assert sso.keys.fetched == 3  # the forgery's unknown key: the keys were fetched again
    with pytest.raises(Refusal) as elsewhere:
        await sso.login_sso("lang-son", signed(key), Context())
    assert elsewhere.value.code == "sso_not_configured"
    assert len(store.rows) == 1
    assert [row["detail"]["reason"] for row in store.audited] == [
        "unknown_person",
        "signature: InvalidKeyIdError",
    ]


def test_the_providers_name_issuer_and_client_never_a_secret() -> None:
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    sso = case(Accounts(), key)
    assert sso.providers() == [(TENANT, CONFIG)]
    assert sso.providers(TENANT) == [(TENANT, CONFIG)]
    assert sso.providers("lang-son") == []
