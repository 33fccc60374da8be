"""An integrating system's Kafka side: its own SCRAM user, allowed to write its province's
inbound topic and read its own replies topic, nothing else (`hnth system create` / `disable`).

Its client id (from registration's registry) is also its Kafka user name and the `system`
its requests carry."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from hnth_contracts import Topics
from hnth_kit.kafka_access import KafkaAccess
from hnth_kit.kafka_accounts import KafkaAccounts, provision, system_grants


def kafka_credentials(
    admin: KafkaAccess, topics: Topics, tenant: str, client_id: str
) -> dict[str, Any]:
    """Create the system's Kafka user (named by its client id) with a fresh password and
    its ACLs; what the system needs to connect, as `hnth system create` prints it."""
    inbound = topics.inbound(tenant)
    replies = topics.replies(tenant, client_id)
    password = secrets.token_urlsafe(24)
    grants = system_grants(client_id, inbound, replies)
    signed_in = asyncio.run(provision(admin, client_id, password, grants))
    return {
        "tenant": tenant,
        "client_id": client_id,
        "bootstrap": signed_in.bootstrap,
        "security_protocol": signed_in.security_protocol,
        "sasl_mechanism": signed_in.sasl_mechanism,
        "username": client_id,
        "password": password,
        "topic": inbound,
        "replies_topic": replies,
    }


def revoke_kafka_credentials(admin: KafkaAccess, client_id: str) -> None:
    """Delete the system's Kafka user and its ACLs: its next sign-in is refused."""
    KafkaAccounts(admin).delete_user(client_id)
