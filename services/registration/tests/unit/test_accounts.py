"""Accounts and sign-in over an in-memory store: the password rules, the lockout window,
the same refusal for every wrong sign-in, refresh rotation, the token and link lifetimes
the policy sets (`auth.*_ttl`). No Kafka, no database."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hnth_contracts import AccessLinkIssued, Event, TokensRevoked
from hnth_contracts.policy import Policy, Rule, load_policy
from hnth_kit.auth import Principal, Role
from hnth_kit.clock import ManualClock
from hnth_kit.refusal import Refusal
from hnth_kit.settings import REPO_ROOT
from registration.account_commands import AccountIn, AccountPatch, LoginIn, SetPasswordIn
from registration.domain.accounts import Attempt, locked_until, password_violations
from registration.store import StaleWrite
from registration.usecases.accounts import Accounts, Context, common_passwords
from registration.usecases.signin import SignIn

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
TENANT = "tuyen-quang"
OPERATOR = Principal(subject="op", role=Role.OPERATOR, tenant=TENANT)
PASSWORD = "dung-quen-mat-khau-2026"
WINDOW = timedelta(minutes=15)
Document = dict[str, Any]


class MemoryAccounts:
    def __init__(self) -> None:
        self.accounts: dict[tuple[str, str], Document] = {}
        self.attempt_rows: list[tuple[str, str, Attempt]] = []
        self.audit_log: list[Document] = []
        self.tokens: dict[tuple[str, str], Document] = {}
        self.used: set[tuple[str, str]] = set()
        self.revoked: set[str] = set()
        self.outbox: list[Event] = []

    async def directory(
        self, tenant: str, unit: str | None, endpoints: Sequence[str]
    ) -> tuple[dict[str, bool], dict[str, bool]]:
        return ({"SYT": True} if unit == "SYT" else {}), {
            e: True for e in endpoints if e == "TQ-SYT"
        }

    async def account(self, tenant: str, username: str) -> Document | None:
        found = self.accounts.get((tenant, username))
        return dict(found) if found else None

    async def accounts(self, tenant: str, filters: Document) -> list[Document]:
        return [a for (t, _), a in sorted(self.accounts.items()) if t == tenant]

    async def names(self, tenant: str, usernames: Collection[str]) -> dict[str, str]:
        found = [self.accounts.get((tenant, u)) for u in usernames]
        return {a["username"]: a["display_name"] for a in found if a}

    async def create_account(self, account: Document, events: Sequence[Event]) -> bool:
        key = (account["tenant"], account["username"])
        if key in self.accounts:
            return False
        self.accounts[key] = dict(account)
        self.outbox.extend(events)
        return True

    async def update_account(
        self,
        tenant: str,
        username: str,
        version: int,
        fields: Document,
        events: Sequence[Event] = (),
        unset: Sequence[str] = (),
    ) -> None:
        current = self.accounts[(tenant, username)]
        if current["version"] != version:
            raise StaleWrite(username)
        current.update(fields, version=version + 1)
        for name in unset:
            current.pop(name, None)
        self.outbox.extend(events)

    async def attempts(self, tenant: str, username: str, since: datetime) -> list[Attempt]:
        return [a for t, u, a in self.attempt_rows if (t, u) == (tenant, username) and a.at > since]

    async def record_attempt(self, tenant: str, username: str, at: datetime, ok: bool) -> None:
        self.attempt_rows.append((tenant, username, Attempt(at, ok)))

    async def audit(self, row: Document) -> None:
        self.audit_log.append(row)

    async def audit_rows(self, tenant: str, filters: Document, limit: int) -> list[Document]:
        return [r for r in self.audit_log if r["tenant"] == tenant][:limit]

    async def save_token(self, kind: str, row: Document) -> None:
        self.tokens[(kind, row["_id"])] = row

    async def token(self, kind: str, digest: str) -> Document | None:
        return self.tokens.get((kind, digest))

    async def token_used(self, kind: str, digest: str) -> bool:
        return (kind, digest) in self.used

    async def use_token(self, kind: str, digest: str, at: datetime) -> bool:
        if (kind, digest) in self.used:
            return False
        self.used.add((kind, digest))
        return True

    async def revoke_family(self, family: str, at: datetime) -> None:
        self.revoked.add(family)

    async def family_revoked(self, family: str) -> bool:
        return family in self.revoked


def issuer(**claims: Any) -> str:
    return f"token-for-{claims['subject']}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def store() -> MemoryAccounts:
    return MemoryAccounts()


def shipped() -> Policy:
    return load_policy(REPO_ROOT / "policies", TENANT)


def flipped(key: str, value: Any) -> Policy:
    """The shipped policy with one rule's value changed."""
    policy = shipped()
    rule = policy.rules[key]
    assert rule.value != value, "the flip must be a different value"
    changed = {**policy.rules, key: Rule(value=value, source=rule.source)}
    return policy.model_copy(update={"rules": changed})


def under(
    policy: Policy, store: MemoryAccounts, clock: ManualClock, sign: Any = issuer
) -> tuple[Accounts, SignIn]:
    return Accounts(store, lambda t: policy, clock), SignIn(
        store, lambda t: policy, clock, issuer=sign
    )


@pytest.fixture
def cases(store: MemoryAccounts, clock: ManualClock) -> tuple[Accounts, SignIn]:
    return under(shipped(), store, clock)


def account(**fields: Any) -> AccountIn:
    body = {"username": "nguyen.van.a", "display_name": "A", "role": "operator"}
    return AccountIn.model_validate(body | {"password": PASSWORD} | fields)


def login(password: str = PASSWORD, username: str = "nguyen.van.a") -> LoginIn:
    return LoginIn(tenant=TENANT, username=username, password=password)


def test_a_password_is_long_not_the_username_and_not_common() -> None:
    common = common_passwords()
    assert password_violations(PASSWORD, "nguyen.van.a", common) == []
    rules = {v.rule for v in password_violations("Nguyen.Van.A1", "nguyen.van.a", common)}
    assert rules == {"password.contains_username"}
    assert {v.rule for v in password_violations("qwerty", "x", common)} == {
        "password.min_length",
        "password.common",
    }


def test_five_failures_within_the_window_lock_until_the_oldest_leaves_it() -> None:
    failures = [Attempt(NOW - timedelta(minutes=m), False) for m in (14, 10, 5, 3, 1)]
    assert locked_until(failures, NOW, 5, WINDOW) == NOW + timedelta(minutes=1)
    assert locked_until(failures[1:], NOW, 5, WINDOW) is None
    # a success in between starts the count again
    between = [*failures[:2], Attempt(NOW - timedelta(minutes=6), True), *failures[2:]]
    assert locked_until(between, NOW, 5, WINDOW) is None


async def test_every_wrong_sign_in_gets_the_same_refusal(cases: tuple[Accounts, SignIn]) -> None:
    accounts, signin = cases
    await accounts.create(OPERATOR, account(), Context())
    refusals = []
    for body in (login(username="khong.co"), login("sai-mat-khau-roi-nhe")):
        with pytest.raises(Refusal) as refused:
            await signin.login(body, Context())
        refusals.append(refused.value.body(english=True))
    assert refusals[0] == refusals[1]
    assert refusals[0]["code"] == "invalid_credentials"


async def test_the_sixth_attempt_is_locked_out_with_retry_after(
    cases: tuple[Accounts, SignIn], clock: ManualClock
) -> None:
    accounts, signin = cases
    await accounts.create(OPERATOR, account(), Context())
    for _ in range(5):
        with pytest.raises(Refusal):
            await signin.login(login("sai-mat-khau-roi-nhe"), Context())
        clock.advance(timedelta(minutes=1))
    with pytest.raises(Refusal) as refused:
        await signin.login(login(), Context())
    assert refused.value.status == 429
    assert refused.value.headers["Retry-After"] == str(10 * 60)


async def test_disabling_revokes_tokens_and_ends_refresh(
    cases: tuple[Accounts, SignIn], store: MemoryAccounts
) -> None:
    accounts, signin = cases
    await accounts.create(OPERATOR, account(), Context())
    tokens = await signin.login(login(), Context())
    assert tokens["access_token"] == "token-for-nguyen.van.a"
    await accounts.disable(OPERATOR, "nguyen.van.a", Context())
    assert [type(e) for e in store.outbox] == [TokensRevoked]
    with pytest.raises(Refusal) as refused:
        await signin.refresh(tokens["refresh_token"], Context())
    assert refused.value.code == "invalid_refresh"


async def test_a_registrar_without_a_unit_is_refused(cases: tuple[Accounts, SignIn]) -> None:
    accounts, _ = cases
    with pytest.raises(Refusal) as refused:
        await accounts.create(OPERATOR, account(role="registrar"), Context())
    assert [v.rule for v in refused.value.violations] == ["account.registrar_unit"]
    created = await accounts.create(OPERATOR, account(role="registrar", unit="SYT"), Context())
    assert created["unit"] == "SYT"


async def test_an_operator_cannot_change_their_own_role(cases: tuple[Accounts, SignIn]) -> None:
    """The province's last IT-department account would lock everyone out of accounts."""
    accounts, _ = cases
    await accounts.create(OPERATOR, account(username="truc-ban"), Context())
    me = OPERATOR.model_copy(update={"subject": "truc-ban"})
    with pytest.raises(Refusal) as refused:
        await accounts.update(me, "truc-ban", AccountPatch(role=Role.VIEWER), Context())
    assert (refused.value.status, refused.value.code) == (409, "own_account")
    renamed = await accounts.update(me, "truc-ban", AccountPatch(phone="0912"), Context())
    assert renamed["role"] == "operator"  # the rest of one's own account stays one's own


async def test_an_account_change_is_audited_old_to_new(
    cases: tuple[Accounts, SignIn], store: MemoryAccounts
) -> None:
    """Who changed what from what: a role taken away is read in the audit, not guessed."""
    accounts, _ = cases
    await accounts.create(OPERATOR, account(username="ky-thuat", phone="0912"), Context())
    patch = AccountPatch(role=Role.VIEWER, phone="0913", display_name="A")  # the name as it was
    await accounts.update(OPERATOR, "ky-thuat", patch, Context(actor="truc-ban"))

    [row] = [r for r in store.audit_log if r["kind"] == "account_changed"]
    assert row["actor"] == "truc-ban"
    assert row["detail"] == {
        "changed": {
            "phone": {"was": "0912", "now": "0913"},
            "role": {"was": "operator", "now": "viewer"},
        }
    }


def policy_with(key: str, value: Any) -> Policy:
    """The shipped policy (value None) or the one with `key` flipped to `value`."""
    return shipped() if value is None else flipped(key, value)


@pytest.mark.parametrize(
    ("value", "lives"), [(None, timedelta(minutes=15)), ("PT5M", timedelta(minutes=5))]
)
async def test_auth_access_token_ttl_is_how_long_an_access_token_lives(
    value: str | None, lives: timedelta, store: MemoryAccounts, clock: ManualClock
) -> None:
    signed: list[timedelta] = []

    def sign(**claims: Any) -> str:
        signed.append(claims["ttl"])
        return issuer(**claims)

    policy = policy_with("auth.access_token_ttl", value)
    accounts, signin = under(policy, store, clock, sign)
    await accounts.create(OPERATOR, account(), Context())
    tokens = await signin.login(login(), Context())
    assert signed == [lives]
    assert tokens["expires_in"] == lives.total_seconds()


async def refreshed_after(policy: Policy, hours: int) -> bool:
    clock = ManualClock(NOW)
    accounts, signin = under(policy, MemoryAccounts(), clock)
    await accounts.create(OPERATOR, account(), Context())
    tokens = await signin.login(login(), Context())
    clock.advance(timedelta(hours=hours))
    try:
        await signin.refresh(tokens["refresh_token"], Context())
    except Refusal as refused:
        if refused.code != "invalid_refresh":
            raise
        return False
    return True


async def test_auth_refresh_token_ttl_ends_the_session_when_it_says() -> None:
    assert await refreshed_after(shipped(), 2)  # 12 hours
    assert not await refreshed_after(flipped("auth.refresh_token_ttl", "PT1H"), 2)


@pytest.mark.parametrize(
    ("value", "lives"), [(None, timedelta(days=1)), ("PT1H", timedelta(hours=1))]
)
async def test_auth_link_ttl_is_how_long_a_set_password_link_works(
    value: str | None, lives: timedelta, store: MemoryAccounts, clock: ManualClock
) -> None:
    accounts, signin = under(policy_with("auth.link_ttl", value), store, clock)
    await accounts.create(OPERATOR, account(password=None, email="a@tq.gov.vn"), Context())
    [link] = store.outbox
    assert isinstance(link, AccessLinkIssued)
    assert link.expires_at == NOW + lives
    body = SetPasswordIn(token=link.link.partition("token=")[2], password=PASSWORD)
    clock.advance(timedelta(hours=2))
    if lives > timedelta(hours=2):
        await signin.set_password(body, Context())
    else:
        with pytest.raises(Refusal) as refused:
            await signin.set_password(body, Context())
        assert refused.value.code == "invalid_link"
