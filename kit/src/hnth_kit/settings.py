"""Service settings from the environment (`HNTH_` prefix), built once in `app.py`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from hnth_contracts import Topics
from hnth_kit.kafka_access import KafkaAccess, Mechanism, Protocol

CpuNice = Annotated[int, Field(ge=0, le=19)]
"""A POSIX `nice` increment: how much lower than the others a service's processes run."""

REPO_ROOT = Path(__file__).resolve().parents[3]
"""The checkout this package was installed from (for tests and tools run from it; a
service never reads files by it)."""


class ServiceSettings(BaseSettings):
    """What every service reads from its environment; a service subclass sets its defaults.

    `HNTH_POLICY_DIR` has no default and a service other than registration refuses to
    start without `HNTH_AUTH_JWKS_URL` (or `HNTH_AUTH_JWKS`): no rule is read from a guess
    and no service but registration holds a signing key.
    """

    model_config = SettingsConfigDict(env_prefix="HNTH_", extra="ignore")

    service_name: str = "service"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_security_protocol: Protocol = "PLAINTEXT"
    """`SASL_SSL` in production (compose), `SASL_PLAINTEXT` on a loopback-only stack."""
    kafka_sasl_mechanism: Mechanism = "SCRAM-SHA-512"
    kafka_username: str | None = None
    """This service's own principal: its ACLs allow exactly its topics and group."""
    kafka_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = None
    mongodb_url: str = "mongodb://127.0.0.1:27017/"
    database: str = ""
    """Defaults to `hnth_<service_name>`."""
    consumer_group: str = ""
    """Defaults to `hnth-<service_name>`: each service is one group, replicas split partitions."""
    topic_prefix: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    auth_jwks_url: str | None = None
    """Registration's public keys (`…/.well-known/jwks.json`): tokens are verified with them."""
    auth_jwks: str | None = None
    """The public keys inline, as JWKS JSON (tests, or a site that copies them by hand)."""
    revocation_refresh_seconds: float = Field(default=10.0, gt=0)
    """How often each replica rereads revoked sign-ins (a revocation is felt within this)."""
    policy_dir: Path
    """Where the provinces' policy files are (`HNTH_POLICY_DIR`, required): a service
    installed outside the checkout has no folder to guess."""
    outbox_poll_seconds: float = 0.25
    outbox_idle_poll_seconds: float = 1.0
    """The relay's poll backs off to this after passes that published nothing."""
    outbox_sweep_seconds: float = 60.0
    timer_poll_seconds: float = 1.0
    timers_gauge_seconds: float = Field(default=15.0, ge=0)
    """`hnth_timers_pending` is counted at most once in this many seconds
    (`HNTH_TIMERS_GAUGE_SECONDS`; Prometheus' usual scrape interval). The count is the
    queue's statistics (`hnth_kit.mongo.size_of`: 16 ms on FerretDB for 10,000 timers);
    when it read every pending timer (290 ms), a scrape every 2 s (the e2e bench's looks)
    made it 3% of FerretDB's CPU."""
    consume_batch_max: int = Field(default=200, ge=1)
    """At most this many messages per poll: handled one by one, their offsets committed
    once for the whole batch (one commit per message was half of a meeting's Kafka traffic)."""
    consume_batch_wait_ms: int = Field(default=20, ge=1)
    """How long an idle poll waits for messages, and then sleeps before the next one
    (FastStream's batch loop): a message arriving meanwhile waits at most this long."""
    consume_fetch_wait_ms: int = Field(default=100, ge=1)
    """How long the broker holds a fetch that finds no new messages (aiokafka's
    `fetch_max_wait_ms`, 500 by default). Why short: a busy consumer leaves a province's
    partition buffered past aiokafka's 100 ms prefetch backoff, so the fetcher asks for
    its idle partitions alone; the broker holds that fetch this long, and the drained
    busy partition cannot be fetched meanwhile (one fetch in flight per broker). At 500
    ms a decision waited about half a second a hop at 50 meetings/s; an idle consumer
    now asks the broker ten times a second instead of twice."""
    consume_fetch_min_bytes: int = Field(default=1, ge=1)
    """How much the broker gathers before it answers a fetch (up to the fetch wait;
    aiokafka's `fetch_min_bytes`). 1 answers at once: what a clerk waits for. The back
    office (notification, inspection) asks for more: at 50 meetings/s each of their
    fetches brought one or two events, a broker request and a small batch's reads and
    writes each time, on the cores scheduling decides on."""
    consume_commit_ms: int = Field(default=1000, ge=0)
    """Handled offsets are committed behind the batches, at most once this often (Kafka's
    auto-commit and Kafka Streams work so): a commit after every small batch was a third
    of the broker's requests at 50 meetings/s, and the next batch waited for it. A crash
    redelivers what was handled since (handlers are idempotent). 0: after every batch."""
    consume_part_ms: int = Field(default=50, ge=0)
    """A batch publishes what it has handled each time it has run this long (its writes
    made first), so a big batch's first events do not wait for its last; the offsets are
    still committed once. 0: only at the batch's end."""
    handler_attempts: int = Field(default=3, ge=1)
    """Attempts for a message whose handler fails for a non-transient reason, before the DLQ."""
    cpu_nice: CpuNice = 0
    """How much lower than the others this service's processes run on a busy machine
    (POSIX `nice`, applied at start; a container may lower its own priority without
    privileges). Work that can wait (e-mail days ahead) yields the cores to decisions a
    clerk is waiting for; an idle machine still gives it all it wants."""
    log_level: str = "INFO"
    clock_offset_seconds: float = 0.0
    """Shift the service's clock (drills and demos: `HNTH_CLOCK_OFFSET_SECONDS`)."""
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    """Request bodies over this get 413 before any handler runs."""

    @property
    def database_name(self) -> str:
        return self.database or f"hnth_{self.service_name}"

    @property
    def group_id(self) -> str:
        return self.consumer_group or f"hnth-{self.service_name}"

    @property
    def kafka(self) -> KafkaAccess:
        """The broker and this service's credentials there, for every Kafka client."""
        password = self.kafka_password.get_secret_value() if self.kafka_password else None
        return KafkaAccess(
            self.kafka_bootstrap_servers,
            self.kafka_security_protocol,
            self.kafka_sasl_mechanism,
            self.kafka_username,
            password,
            self.kafka_ssl_cafile,
        )

    @property
    def topics(self) -> Topics:
        return Topics(prefix=self.topic_prefix)
