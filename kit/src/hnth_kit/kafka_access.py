"""Where the broker is and who we are on it: one value every Kafka client is built from.

The bus authenticates with SASL/SCRAM-SHA-512 (over TLS in production): each service has
its own principal, whose ACLs name exactly its topics and consumer group. A bare
`host:port` string is signed in with the process's `HNTH_KAFKA_*` environment (the same
variables a service's settings read), or plaintext when it sets none: the CLI, the admin
and test helpers take either.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Literal

from faststream.security import BaseSecurity, SASLPlaintext, SASLScram512

Protocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
Mechanism = Literal["SCRAM-SHA-512", "PLAIN"]


@dataclass(frozen=True)
class KafkaAccess:
    """A broker address and the credentials to use there (none: plaintext)."""

    bootstrap: str
    security_protocol: Protocol = "PLAINTEXT"
    sasl_mechanism: Mechanism = "SCRAM-SHA-512"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ssl_cafile: str | None = None
    """The CA that signed the broker's certificate (TLS); the system's store when None."""

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    def as_user(self, username: str, password: str) -> KafkaAccess:
        """The same broker, signed in as someone else."""
        protocol: Protocol = "SASL_SSL" if self.uses_tls else "SASL_PLAINTEXT"
        return KafkaAccess(
            self.bootstrap, protocol, self.sasl_mechanism, username, password, self.ssl_cafile
        )

    def environment(self) -> dict[str, str]:
        """The `HNTH_KAFKA_*` variables that sign a process in as this (`from_environment`
        and every service's settings read them)."""
        found = {
            "HNTH_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "HNTH_KAFKA_SECURITY_PROTOCOL": self.security_protocol,
            "HNTH_KAFKA_SASL_MECHANISM": self.sasl_mechanism,
            "HNTH_KAFKA_USERNAME": self.username,
            "HNTH_KAFKA_PASSWORD": self.password,
            "HNTH_KAFKA_SSL_CAFILE": self.ssl_cafile,
        }
        return {name: value for name, value in found.items() if value is not None}

    def aiokafka(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client (producer, consumer, admin)."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": self.security_protocol,
        }
        if self.uses_sasl:
            options |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password,
            }
        if self.uses_tls:
            options["ssl_context"] = self._ssl_context()
        return options

    def faststream(self) -> BaseSecurity | None:
        """FastStream's security object for its broker (None: plaintext)."""
        tls = self.uses_tls
        context = self._ssl_context() if tls else None
        if not self.uses_sasl:
            return BaseSecurity(ssl_context=context, use_ssl=tls) if tls else None
        kind = SASLScram512 if self.sasl_mechanism == "SCRAM-SHA-512" else SASLPlaintext
        return kind(
            username=self.username or "",
            password=self.password or "",
            ssl_context=context,
            use_ssl=tls,
        )

    def librdkafka(self) -> dict[str, str]:
        """The same settings for librdkafka clients (confluent-kafka: the ACL and SCRAM
        admin calls aiokafka lacks; also what an integrating system configures)."""
        config = {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": self.security_protocol.lower(),
        }
        if self.uses_sasl:
            config |= {
                "sasl.mechanism": self.sasl_mechanism,
                "sasl.username": self.username or "",
                "sasl.password": self.password or "",
            }
        if self.uses_tls and self.ssl_cafile:
            config["ssl.ca.location"] = self.ssl_cafile
        return config

    def _ssl_context(self) -> Any:
        from aiokafka.helpers import create_ssl_context

        return create_ssl_context(cafile=self.ssl_cafile)


def access_of(target: KafkaAccess | str) -> KafkaAccess:
    """`target` itself, or a bare `host:port` signed in as the environment says."""
    return target if isinstance(target, KafkaAccess) else from_environment(target)


def from_environment(bootstrap: str) -> KafkaAccess:
    """The broker at `bootstrap` with the credentials of `HNTH_KAFKA_SECURITY_PROTOCOL`,
    `HNTH_KAFKA_SASL_MECHANISM`, `HNTH_KAFKA_USERNAME`, `HNTH_KAFKA_PASSWORD` and
    `HNTH_KAFKA_SSL_CAFILE` (plaintext when unset)."""
    env = os.environ
    return KafkaAccess(
        bootstrap,
        env.get("HNTH_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"),  # type: ignore[arg-type]
        env.get("HNTH_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),  # type: ignore[arg-type]
        env.get("HNTH_KAFKA_USERNAME"),
        env.get("HNTH_KAFKA_PASSWORD"),
        env.get("HNTH_KAFKA_SSL_CAFILE"),
    )
