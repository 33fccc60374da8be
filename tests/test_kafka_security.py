"""The bus with SASL/SCRAM-SHA-512 and ACLs on (issue 21), on a real broker of its own.

Who may connect and which topic each principal may touch: a client without credentials
is refused; an integrating system writes only its own province's inbound topic; a service
runs under its own principal with exactly the ACLs it declares, and is refused a topic
another service owns; a deleted (disabled) user cannot sign in again.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError
from registration_samples import meeting_body, running

from hnth_contracts import MeetingRequested, Topics, decode_event
from hnth_kit.kafka import OutMessage, Producer
from hnth_kit.kafka_access import KafkaAccess
from hnth_kit.kafka_accounts import KafkaAccounts, system_grants
from hnth_kit.testing import TEST_SIGNING_KEYS, read_topic
from hnth_kit.topics_admin import ensure_topics
from infra import stack
from registration.app import RegistrationSettings, build

LANG_SON, TUYEN_QUANG = "lang-son", "tuyen-quang"


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[stack.StackState]:
    """A Kafka of this module's own that signs in and authorizes every client."""
    run_dir = tmp_path_factory.mktemp("sasl-stack")
    state = stack.up(run_dir, sasl=True)
    try:
        yield state
    finally:
        stack.down(run_dir)


@dataclass
class Principals:
    admin: KafkaAccess
    accounts: KafkaAccounts

    def create(self, name: str, grants: Any) -> KafkaAccess:
        password = secrets.token_urlsafe(18)
        self.accounts.set_password(name, password)
        self.accounts.grant(name, grants)
        return self.admin.as_user(name, password)


@pytest.fixture
def principals(secured: stack.StackState) -> Principals:
    return Principals(secured.kafka_admin, KafkaAccounts(secured.kafka_admin))


async def _send(kafka: KafkaAccess | str, topic: str) -> None:
    producer = Producer(kafka, client_id="security-test")
    await producer.start()
    try:
        await asyncio.wait_for(producer.send([OutMessage(topic, b"k", b"{}")]), 30)
    finally:
        await producer.stop()


async def test_a_client_without_credentials_is_refused(secured: stack.StackState) -> None:
    with pytest.raises(KafkaConnectionError):
        await _send(KafkaAccess(secured.bootstrap_servers), "anything")


async def test_a_system_writes_only_its_own_provinces_inbound_topic(
    principals: Principals, unique: str
) -> None:
    topics = Topics(prefix=f"t{unique}.")
    inbound = {t: f"{topics.prefix}hnth.inbound.{t}" for t in (LANG_SON, TUYEN_QUANG)}
    await ensure_topics(principals.admin, [*inbound.values(), topics.meetings])
    name = f"sys-{unique}"
    lang_son = principals.create(
        name, system_grants(name, inbound[LANG_SON], f"{inbound[LANG_SON]}.replies")
    )

    await _send(lang_son, inbound[LANG_SON])
    for elsewhere in (inbound[TUYEN_QUANG], topics.meetings):
        with pytest.raises(TopicAuthorizationFailedError):
            await _send(lang_son, elsewhere)
    [kept] = await read_topic(principals.admin, inbound[LANG_SON], expect=1)
    assert kept.value == b"{}"


async def test_a_deleted_user_cannot_sign_in_again(principals: Principals, unique: str) -> None:
    topic = f"t{unique}.hnth.inbound.{LANG_SON}"
    await ensure_topics(principals.admin, [topic])
    name = f"sys-{unique}"
    system = principals.create(name, system_grants(name, topic, f"{topic}.replies"))
    await _send(system, topic)

    principals.accounts.delete_user(name)

    with pytest.raises(KafkaConnectionError):
        await _send(system, topic)


async def test_a_service_runs_under_its_own_principal_and_only_its_topics(
    secured: stack.StackState, principals: Principals, infra: Any, unique: str
) -> None:
    """Registration signed in as itself: it creates no topic (the admin did), registers a
    meeting and publishes `MeetingRequested`; scheduling's topic is not its to write."""
    prefix = f"t{unique}."
    name, password = f"registration-{unique}", secrets.token_urlsafe(18)
    credentials = {
        "kafka_security_protocol": "SASL_PLAINTEXT",
        "kafka_username": name,
        "kafka_password": password,
    }
    planned = build(
        RegistrationSettings(  # type: ignore[call-arg]
            kafka_bootstrap_servers=secured.bootstrap_servers,
            topic_prefix=prefix,
            signing_keys=TEST_SIGNING_KEYS,
            **credentials,
        )
    )
    grants = planned.kafka_grants()
    assert prefix + "hnth.slots" not in grants.writes  # scheduling's
    await ensure_topics(principals.admin, [*grants.reads, *grants.writes])
    principals.accounts.set_password(name, password)
    principals.accounts.grant(name, grants)

    on_secured = _Infra(secured.bootstrap_servers, infra.mongodb_url)
    async with running(on_secured, unique, **credentials) as registration:
        response = await registration.http.post(
            "/meetings", json=meeting_body(), headers=registration.headers("operator")
        )
        assert response.status_code == 201, response.text
        found = await read_topic(
            principals.admin,
            registration.topics.meetings,
            until=lambda seen: any(_requested(m.value) for m in seen),
        )
        assert [m for m in found if _requested(m.value)]
        with pytest.raises(TopicAuthorizationFailedError):
            await _send(principals.admin.as_user(name, password), registration.topics.slots)


@dataclass(frozen=True)
class _Infra:
    bootstrap_servers: str
    mongodb_url: str


def _requested(value: bytes) -> bool:
    return isinstance(decode_event(value), MeetingRequested)
