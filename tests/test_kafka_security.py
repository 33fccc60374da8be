"""The bus with SASL/SCRAM-SHA-512 and ACLs on (issue 21), on a real broker of its own.

Who may connect and which topic each principal may touch: a client without credentials
is refused; an integrating system writes only its own province's inbound topic; a service
runs under its own principal with exactly the ACLs it declares, and is refused a topic
another service owns; a deleted (disabled) user cannot sign in again.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError
from confluent_kafka import KafkaException
from registration_samples import meeting_body, running

from hnth_contracts import MeetingRequested, Topics, dead_letter, decode_event
from hnth_kit.dlq import (
    dead_letter_topics,
    ensure_resolutions_topic,
    read_dead_letters,
    read_resolutions,
    replay,
)
from hnth_kit.kafka_access import KafkaAccess
from hnth_kit.kafka_accounts import (
    KafkaAccounts,
    console_grants,
    provision,
    provision_itself,
    system_grants,
)
from hnth_kit.testing import TEST_SIGNING_KEYS, read_topic, send_one
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


async def test_a_client_without_credentials_is_refused(secured: stack.StackState) -> None:
    with pytest.raises(KafkaConnectionError):
        await send_one(KafkaAccess(secured.bootstrap_servers), "anything")


async def test_a_system_writes_only_its_own_provinces_inbound_topic(
    principals: Principals, unique: str
) -> None:
    topics = Topics(prefix=f"t{unique}.")
    inbound = {t: f"{topics.prefix}hnth.inbound.{t}" for t in (LANG_SON, TUYEN_QUANG)}
    await ensure_topics(principals.admin, [*inbound.values(), topics.meetings])
    name = f"sys-{unique}"
    lang_son = principals.create(
        name, system_grants(name, inbound[LANG_SON], f"{inbound[LANG_SON]}.replies.{name}")
    )

    await send_one(lang_son, inbound[LANG_SON])
    for elsewhere in (inbound[TUYEN_QUANG], topics.meetings):
        with pytest.raises(TopicAuthorizationFailedError):
            await send_one(lang_son, elsewhere)
    [kept] = await read_topic(principals.admin, inbound[LANG_SON], expect=1)
    assert kept.value == b"{}"


async def test_a_system_reads_only_its_own_replies_topic(
    principals: Principals, unique: str
) -> None:
    """Two systems of one province: each reads the answers on its own topic and is refused
    the other's (request ids, meetings and refusals are each system's own business)."""
    topics = Topics(prefix=f"t{unique}.")
    inbound = topics.inbound(LANG_SON)
    names = (f"sys-{unique}-a", f"sys-{unique}-b")
    systems = {
        name: await provision(
            principals.admin,
            name,
            secrets.token_urlsafe(18),
            system_grants(name, inbound, topics.replies(LANG_SON, name)),
        )
        for name in names
    }
    mine, theirs = (topics.replies(LANG_SON, name) for name in names)
    await send_one(principals.admin, mine, b"for a")

    [answer] = await read_topic(systems[names[0]], mine, expect=1)
    assert answer.value == b"for a"
    with pytest.raises(TopicAuthorizationFailedError):
        await read_as_member(systems[names[0]], theirs, group=f"{names[0]}-replies")


async def read_as_member(kafka: KafkaAccess, topic: str, group: str) -> None:
    """Read `topic` as a system's consumer group does, until the broker's refusal comes
    back (raised) or a minute passes (then nothing was refused: the caller's check fails).
    The refusal arrives with a metadata answer, whenever that comes: polled, not timed."""
    consumer = AIOKafkaConsumer(
        topic, **kafka.aiokafka(), group_id=group, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            await consumer.getmany(timeout_ms=1000)
    finally:
        await consumer.stop()


async def test_a_deleted_user_cannot_sign_in_again(principals: Principals, unique: str) -> None:
    topic = f"t{unique}.hnth.inbound.{LANG_SON}"
    await ensure_topics(principals.admin, [topic])
    name = f"sys-{unique}"
    system = principals.create(name, system_grants(name, topic, f"{topic}.replies.{name}"))
    await send_one(system, topic)

    principals.accounts.delete_user(name)

    with pytest.raises(KafkaConnectionError):
        await send_one(system, topic)


async def test_a_service_runs_under_its_own_principal_and_only_its_topics(
    secured: stack.StackState,
    principals: Principals,
    infra: Any,
    unique: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Registration signed in as itself: it registers a meeting and publishes
    `MeetingRequested`; scheduling's topic is not its to write; it creates no topic (the
    admin did) but a system's replies topic, as it first answers one."""
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
    # what compose's one-shot job runs first: `python -m registration kafka-provision`
    monkeypatch.setenv("HNTH_KAFKA_ADMIN_PASSWORD", str(principals.admin.password))
    await provision_itself(principals.admin.as_user(name, password), grants)

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
        itself = principals.admin.as_user(name, password)
        with pytest.raises(TopicAuthorizationFailedError):
            await send_one(itself, registration.topics.slots)
        replies = registration.topics.replies(TUYEN_QUANG, f"sys-{unique}")
        await ensure_topics(itself, [replies], dead_letters=False)
        await send_one(itself, replies)
        with pytest.raises(TopicAuthorizationFailedError):
            await ensure_topics(itself, [f"{prefix}hnth.made-by-registration"])


async def test_the_console_reads_and_replays_dead_letters_and_administers_nothing(
    principals: Principals, unique: str
) -> None:
    """The console's own principal (compose's `console-kafka` job makes it): its
    dead-letter page lists and reads every `.dlq` topic and replays to the original
    topic; it creates no topic, user or ACL, and sees no other prefix's topics."""
    prefix = f"t{unique}."
    topic = f"{prefix}hnth.meetings"
    await ensure_topics(principals.admin, [topic, f"x{unique}.hnth.meetings"])
    await ensure_resolutions_topic(principals.admin, prefix)
    password = secrets.token_urlsafe(18)
    console = await provision(
        principals.admin, f"console-{unique}", password, console_grants(prefix)
    )
    await send_one(principals.admin, dead_letter(topic))

    assert await dead_letter_topics(console, prefix) == [dead_letter(topic)]
    [letter] = await read_dead_letters(console, [dead_letter(topic)])
    await replay(console, letter, by="duty-officer", prefix=prefix)
    assert letter.ref in await read_resolutions(console, prefix)
    await read_topic(console, topic, expect=1)
    with pytest.raises(TopicAuthorizationFailedError):
        await send_one(console, f"x{unique}.hnth.meetings")
    with pytest.raises(KafkaException):
        await asyncio.to_thread(KafkaAccounts(console).set_password, f"made-{unique}", password)
    with pytest.raises(TopicAuthorizationFailedError):
        await ensure_topics(console, [f"{prefix}hnth.made-by-the-console"])


@dataclass(frozen=True)
class _Infra:
    bootstrap_servers: str
    mongodb_url: str


def _requested(value: bytes) -> bool:
    return isinstance(decode_event(value), MeetingRequested)
