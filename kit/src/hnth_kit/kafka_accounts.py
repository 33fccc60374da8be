"""Principals and ACLs on the bus: who may read and write which topic.

Each service signs in as its own SCRAM user whose ACLs name exactly the topics it consumes
(read) and publishes or dead-letters to (write), and its consumer group; registration also
creates and writes the systems' replies topics under each province's prefix for them. An
integrating system may write only its province's inbound topic and read only its own
replies topic. The admin principal creates the other topics, users and ACLs; nothing runs
as a super-user.

aiokafka has no SCRAM or ACL calls, so these use confluent-kafka's admin client
(librdkafka), synchronously: they run at setup, from the CLI or a launcher, never in a
service.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from confluent_kafka.admin import (  # type: ignore[attr-defined]  # re-exported at runtime
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)

from hnth_contracts import dead_letter, is_dead_letter
from hnth_kit.kafka_access import KafkaAccess
from hnth_kit.topics_admin import ensure_topics

SCRAM_ITERATIONS = 8192
TIMEOUT = 30.0


@dataclass(frozen=True)
class Grants:
    """What one principal may do: topics read or written (exact names, or prefixes)."""

    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    read_prefixes: tuple[str, ...] = ()
    write_prefixes: tuple[str, ...] = ()
    group_prefixes: tuple[str, ...] = ()
    create_prefixes: tuple[str, ...] = ()
    """Topics it creates as it needs them, and writes (registration's per-system replies)."""
    administers: bool = False
    """Every topic, group and the cluster (creating topics, users and ACLs): the admin's."""

    def prefixed(self, prefix: str) -> Grants:
        """The same grants on topics named with `prefix` first (a test platform's)."""
        return replace(
            self,
            reads=tuple(prefix + t for t in self.reads),
            writes=tuple(prefix + t for t in self.writes),
            read_prefixes=tuple(prefix + t for t in self.read_prefixes),
            write_prefixes=tuple(prefix + t for t in self.write_prefixes),
            create_prefixes=tuple(prefix + t for t in self.create_prefixes),
        )

    def for_group(self, group: str) -> Grants:
        """The same grants for a service run under consumer group `group` (a test
        platform's): its first group renamed, the others (`<group>-prompt`) after it."""
        first = self.groups[0]
        return replace(self, groups=tuple(group + g.removeprefix(first) for g in self.groups))

    @classmethod
    def from_json(cls, text: str) -> Grants:
        """What `python -m <service> kafka-grants` printed."""
        fields = json.loads(text)
        administers = bool(fields.pop("administers", False))
        return cls(**{k: tuple(v) for k, v in fields.items()}, administers=administers)


def service_grants(
    inputs: Iterable[str],
    outputs: Iterable[str],
    groups: Iterable[str],
    creates: Iterable[str] = (),
) -> Grants:
    """A service's: read its inputs, write its outputs and its inputs' dead letters, keep
    its consumer groups' offsets, and create and write topics under `creates` prefixes."""
    read = tuple(dict.fromkeys(inputs))
    write = tuple(dict.fromkeys([*outputs, *(dead_letter(t) for t in read)]))
    return Grants(reads=read, writes=write, groups=tuple(groups), create_prefixes=tuple(creates))


def system_grants(username: str, inbound: str, replies: str) -> Grants:
    """An integrating system's: write its province's inbound topic, read its own replies
    topic (with consumer groups named after itself, so it can keep its offsets)."""
    return Grants(writes=(inbound,), reads=(replies,), group_prefixes=(username,))


def console_grants(prefix: str = "") -> Grants:
    """The operator console's: its dead-letter page lists and reads every topic's dead
    letters and replays one to the topic it came from, so it reads and writes every
    `hnth.` topic; it creates none (its provisioning makes the resolutions topic)."""
    return Grants(read_prefixes=(f"{prefix}hnth.",), write_prefixes=(f"{prefix}hnth.",))


ADMIN = Grants(administers=True)
ADMIN_USER = "hnth-admin"


async def provision(admin: KafkaAccess, user: str, password: str, grants: Grants) -> KafkaAccess:
    """Create (or update) `user` with `grants`, the topics it names created first by the
    admin (the user may not create them); returns the access signed in as the user."""
    await ensure_topics(
        admin, [*grants.reads, *(t for t in grants.writes if not is_dead_letter(t))]
    )
    accounts = KafkaAccounts(admin)
    await asyncio.to_thread(accounts.set_password, user, password)
    await asyncio.to_thread(accounts.grant, user, grants)
    return admin.as_user(user, password)


def admin_from_environment(own: KafkaAccess) -> KafkaAccess:
    """The admin on the broker `own` uses: `HNTH_KAFKA_ADMIN_USERNAME` (default
    hnth-admin) and `HNTH_KAFKA_ADMIN_PASSWORD`."""
    password = os.environ.get("HNTH_KAFKA_ADMIN_PASSWORD")
    if not password:
        raise SystemExit("kafka-provision needs HNTH_KAFKA_ADMIN_PASSWORD (the admin's)")
    return own.as_user(os.environ.get("HNTH_KAFKA_ADMIN_USERNAME", ADMIN_USER), password)


async def provision_itself(own: KafkaAccess, grants: Grants) -> None:
    """`python -m <service> kafka-provision`: as the admin, make this process's own user
    (the `HNTH_KAFKA_USERNAME` and `_PASSWORD` it signs in with) with `grants`. A compose
    job runs it before the service starts, so the service never holds the admin's
    password; a restart runs it again (idempotent: it also applies a changed password)."""
    if not (own.username and own.password):
        raise SystemExit("kafka-provision needs HNTH_KAFKA_USERNAME and HNTH_KAFKA_PASSWORD")
    await provision(admin_from_environment(own), own.username, own.password, grants)


class KafkaAccounts:
    """SCRAM users and ACLs, through an admin principal's connection."""

    def __init__(self, admin: KafkaAccess) -> None:

        config: dict[str, str | int | float | bool] = {**admin.librdkafka()}
        self._admin = AdminClient(config)

    def set_password(self, username: str, password: str) -> None:
        """Create the user, or change its password."""

        info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS)
        upsert = UserScramCredentialUpsertion(username, info, password.encode())
        self._wait(self._admin.alter_user_scram_credentials([upsert]))
        self._until_known(username)

    def _until_known(self, username: str, known: bool = True) -> None:
        """Wait until the broker answers for the user (or, not `known`, no longer does):
        the controller has stored the change, but the broker learns it from the metadata
        log a moment later, and a sign-in before that fails (or still succeeds)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                self._wait(self._admin.describe_user_scram_credentials([username]))
                if known:
                    return
            except Exception as exc:
                if not known and _not_found(exc):
                    return
                if time.monotonic() > deadline:
                    raise
            if time.monotonic() > deadline:
                raise TimeoutError(f"the broker still knows the Kafka user {username}")
            time.sleep(0.05)

    def delete_user(self, username: str) -> None:
        """Remove the user's SCRAM credentials and every ACL naming it: its open
        connections stay until they reconnect, a new sign-in is refused at once."""

        deletion = UserScramCredentialDeletion(username, ScramMechanism.SCRAM_SHA_512)
        try:
            self._wait(self._admin.alter_user_scram_credentials([deletion]))
        except Exception as exc:
            if not _not_found(exc):
                raise
        self.revoke(username)
        self._until_known(username, known=False)

    def grant(self, username: str, grants: Grants) -> None:
        """Add the ACLs `grants` describes for `User:<username>` (idempotent)."""
        self._wait(self._admin.create_acls(list(_bindings(f"User:{username}", grants))))

    def revoke(self, username: str) -> None:
        """Delete every ACL of `User:<username>`."""

        every = AclBindingFilter(
            ResourceType.ANY,
            None,  # type: ignore[arg-type]  # None: any name
            ResourcePatternType.ANY,
            f"User:{username}",
            None,  # type: ignore[arg-type]  # any host
            AclOperation.ANY,
            AclPermissionType.ANY,
        )
        self._wait(self._admin.delete_acls([every]))

    @staticmethod
    def _wait(futures: Any) -> None:
        pending = futures.values() if isinstance(futures, dict) else futures
        for future in pending:
            future.result(timeout=TIMEOUT)


def _bindings(principal: str, grants: Grants) -> Sequence[Any]:

    literal, prefixed = ResourcePatternType.LITERAL, ResourcePatternType.PREFIXED
    wanted: list[tuple[Any, str, Any, Any]] = []
    read_ops = (AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS)
    write_ops = (AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS)
    create_ops = (AclOperation.CREATE, *write_ops)
    for names, pattern, ops in (
        (grants.reads, literal, read_ops),
        (grants.read_prefixes, prefixed, read_ops),
        (grants.writes, literal, write_ops),
        (grants.write_prefixes, prefixed, write_ops),
        (grants.create_prefixes, prefixed, create_ops),
    ):
        wanted += [(ResourceType.TOPIC, n, pattern, op) for n in names for op in ops]
    wanted += [(ResourceType.GROUP, g, literal, AclOperation.READ) for g in grants.groups]
    wanted += [(ResourceType.GROUP, g, prefixed, AclOperation.READ) for g in grants.group_prefixes]
    if grants.administers:
        wanted += [
            (ResourceType.BROKER, "kafka-cluster", literal, AclOperation.ALL),
            (ResourceType.TOPIC, "*", literal, AclOperation.ALL),
            (ResourceType.GROUP, "*", literal, AclOperation.ALL),
        ]
    return [
        AclBinding(kind, name, pattern, principal, "*", op, AclPermissionType.ALLOW)
        for kind, name, pattern, op in dict.fromkeys(wanted)
    ]


def _not_found(exc: Exception) -> bool:
    """The broker's answer for a user it has no credentials of."""
    return "RESOURCE_NOT_FOUND" in str(exc) or "not found" in str(exc).lower()
