"""Integrating systems over an in-memory store (issue 21): the client id, the secret shown
once and stored hashed, the names and units a system may have, the client-credentials
grant (RFC 6749 §4.4, §2.3.1, §5.2), disabling with its revocation. No Kafka, no database."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hnth_contracts import TokensRevoked
from hnth_contracts.policy import load_policy
from hnth_kit.auth import Principal, Role
from hnth_kit.clock import ManualClock
from hnth_kit.refusal import Refusal
from hnth_kit.settings import REPO_ROOT
from registration.domain import systems as domain
from registration.domain.accounts import Attempt
from registration.domain.systems import OAuthError
from registration.usecases.accounts import Context, Passwords
from registration.usecases.systems import Systems

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
TENANT = "tuyen-quang"
OPERATOR = Principal(subject="op", role=Role.OPERATOR, tenant=TENANT)
URL = "http://registration/auth/token"
Document = dict[str, Any]


class MemorySystems:
    """The system store and the attempts/audit port in one."""

    def __init__(self) -> None:
        self.rows: dict[str, Document] = {}
        self.units = {"VP-UBND": True, "SNV": True, "CU": False}
        self.outbox: list[TokensRevoked] = []
        self.tried: list[tuple[str, str, Attempt]] = []
        self.audit_log: list[Document] = []

    async def unit_active(self, tenant: str, unit: str) -> bool | None:
        return self.units.get(unit)

    async def system(self, client_id: str) -> Document | None:
        found = self.rows.get(client_id)
        return dict(found) if found else None

    async def systems(self, tenant: str) -> list[Document]:
        return [dict(s) for s in self.rows.values() if s["tenant"] == tenant]

    async def create_system(self, system: Document) -> bool:
        if system["_id"] in self.rows:
            return False
        self.rows[system["_id"]] = dict(system)
        return True

    async def disable_system(
        self, client_id: str, at: datetime, events: Sequence[TokensRevoked]
    ) -> bool:
        row = self.rows[client_id]
        if row["disabled"]:
            return False
        row.update(disabled=True, disabled_at=at)
        self.outbox.extend(events)
        return True

    async def attempts(self, tenant: str, username: str, since: datetime) -> list[Attempt]:
        return [a for t, u, a in self.tried if (t, u) == (tenant, username) and a.at > since]

    async def record_attempt(self, tenant: str, username: str, at: datetime, ok: bool) -> None:
        self.tried.append((tenant, username, Attempt(at, ok)))

    async def audit(self, row: Document) -> None:
        self.audit_log.append(row)


class Signed:
    """A token issuer that remembers the claims it signed."""

    def __init__(self) -> None:
        self.claims: list[Document] = []

    def __call__(self, **claims: Any) -> str:
        self.claims.append(claims)
        return f"token-{len(self.claims)}"


@pytest.fixture
def store() -> MemorySystems:
    return MemorySystems()


@pytest.fixture
def signed() -> Signed:
    return Signed()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def cases(store: MemorySystems, signed: Signed, clock: ManualClock) -> Systems:
    policy = load_policy(REPO_ROOT / "policies", TENANT)
    return Systems(store, store, lambda _: policy, clock, signed)


async def made(cases: Systems, name: str = "E-Office Sở Nội vụ", unit: str = "SNV") -> Document:
    return await cases.create(OPERATOR, name, unit, URL, Context())


def grant(
    cases: Systems,
    client_id: str,
    secret: str,
    grant_type: str = domain.GRANT,
    ip: str | None = "10.0.0.5",
) -> Any:
    return cases.token(grant_type, None, client_id, secret, Context(ip=ip))


def test_a_client_id_reads_as_its_province_and_name() -> None:
    assert domain.slug("Đăng ký Lịch họp") == "dang-ky-lich-hop"
    assert domain.slug("!!!") == "system"
    assert len(domain.slug("x" * 80)) == domain.SLUG_MAX
    assert domain.client_id(TENANT, "E-Office", "ab12") == "sys-tuyen-quang-e-office-ab12"
    assert domain.subject("sys-a") == "system:sys-a"


def test_basic_credentials_are_form_decoded_and_a_broken_header_is_invalid_client() -> None:
    pair = base64.b64encode(b"sys-a%3Ab:s%2Bcret+x").decode()
    assert domain.basic_credentials(f"Basic {pair}") == ("sys-a:b", "s+cret x")
    assert domain.basic_credentials("Bearer abc") is None
    assert domain.basic_credentials(None) is None
    with pytest.raises(OAuthError) as broken:
        domain.basic_credentials("Basic ###")
    assert (broken.value.status, broken.value.error, broken.value.basic) == (
        401,
        "invalid_client",
        True,
    )


def test_a_token_request_needs_the_grant_and_one_way_of_authenticating() -> None:
    for grant_type, basic, form, error in (
        (None, None, ("a", "b"), "invalid_request"),
        ("password", None, ("a", "b"), "unsupported_grant_type"),
        (domain.GRANT, ("a", "b"), ("a", "b"), "invalid_request"),
        (domain.GRANT, None, ("a", None), "invalid_client"),
    ):
        with pytest.raises(OAuthError) as refused:
            domain.token_request(grant_type, basic, *form)
        assert refused.value.error == error
    asked = domain.token_request(domain.GRANT, ("a", "b"), None, None)
    assert (asked.client_id, asked.secret, asked.basic) == ("a", "b", True)


async def test_the_secret_is_shown_once_and_stored_as_an_argon2_hash(
    cases: Systems, store: MemorySystems
) -> None:
    system = await made(cases)
    assert system["client_id"].startswith("sys-tuyen-quang-e-office-so-noi-vu-")
    assert system["token_url"] == URL
    row = store.rows[system["client_id"]]
    assert set(row) == {"_id", "tenant", "name", "unit", "disabled", "secret_hash", "created_at"}
    assert row["secret_hash"].startswith("$argon2")
    assert Passwords.verify(system["client_secret"], row["secret_hash"])
    (listed,) = await cases.listed(OPERATOR)
    assert "client_secret" not in listed
    assert "secret_hash" not in listed
    assert listed["client_id"] == system["client_id"]


@pytest.mark.parametrize(
    ("name", "unit", "field", "rule"),
    [
        ("e-office   SỞ NỘI VỤ", "SNV", "name", "system.name_unique"),
        ("Khác", "KHONG-CO", "unit", "directory.unit_active"),
        ("Khác", "CU", "unit", "directory.unit_active"),
        ("   ", "SNV", "name", "system.name"),
    ],
)
async def test_a_taken_name_or_a_unit_not_active_is_refused(
    cases: Systems, name: str, unit: str, field: str, rule: str
) -> None:
    await made(cases)
    with pytest.raises(Refusal) as refused:
        await made(cases, name, unit)
    assert refused.value.status == 422
    assert [(v.field, v.rule) for v in refused.value.violations] == [(field, rule)]


async def test_the_grant_is_a_registrar_token_of_the_systems_unit(
    cases: Systems, signed: Signed
) -> None:
    system = await made(cases)
    answer = await grant(cases, system["client_id"], system["client_secret"])
    assert answer == {"access_token": "token-1", "token_type": "Bearer", "expires_in": 900}
    (claims,) = signed.claims
    assert claims["role"] == "registrar"
    assert (claims["tenant"], claims["unit"], claims["name"]) == (TENANT, "SNV", system["name"])
    assert claims["subject"] == f"system:{system['client_id']}"
    assert claims["ttl"] == timedelta(minutes=15)


async def test_wrong_unknown_and_disabled_clients_get_the_same_invalid_client(
    cases: Systems,
) -> None:
    system = await made(cases)
    await cases.disable(OPERATOR, (await made(cases, "Khác"))["client_id"], Context())
    for client_id, secret in (
        (system["client_id"], "sai"),
        ("sys-khong-co", system["client_secret"]),
    ):
        with pytest.raises(OAuthError) as refused:
            await grant(cases, client_id, secret)
        assert (refused.value.status, refused.value.error) == (401, "invalid_client")


async def test_disabling_revokes_the_systems_tokens_once(
    cases: Systems, store: MemorySystems
) -> None:
    system = await made(cases)
    first = await cases.disable(OPERATOR, system["client_id"], Context())
    again = await cases.disable(OPERATOR, system["client_id"], Context())
    assert first["disabled"]
    assert again["disabled"]
    assert first["disabled_at"] == NOW
    (event,) = store.outbox
    assert (event.subject, event.reason) == (f"system:{system['client_id']}", "system_disabled")
    assert event.not_before == NOW
    with pytest.raises(OAuthError):
        await grant(cases, system["client_id"], system["client_secret"])
    other = Principal(subject="op", role=Role.OPERATOR, tenant="lang-son")
    with pytest.raises(Refusal) as elsewhere:
        await cases.disable(other, system["client_id"], Context())
    assert elsewhere.value.status == 404


async def test_failed_secrets_lock_the_client_from_their_address_for_the_sign_in_window(
    cases: Systems, clock: ManualClock
) -> None:
    system = await made(cases)
    for _ in range(5):
        with pytest.raises(OAuthError):
            await grant(cases, system["client_id"], "sai")
    with pytest.raises(OAuthError) as locked:
        await grant(cases, system["client_id"], system["client_secret"])
    assert locked.value.status == 429
    assert locked.value.retry_after == 15 * 60
    # from the system's own server the secret still works: the client id is no secret
    assert await grant(cases, system["client_id"], system["client_secret"], ip="10.0.0.9")
    clock.advance(timedelta(minutes=15, seconds=1))
    assert (await grant(cases, system["client_id"], system["client_secret"]))["access_token"]
