"""System-test fixtures: the four services as real processes (several replicas where asked)
on the real broker and database, with a real SMTP server and a real webhook receiver."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from hnth_contracts import Event, Topics, key_of
from hnth_kit.kafka import OutMessage, Producer
from hnth_kit.kafka_access import KafkaAccess, access_of
from hnth_kit.kafka_accounts import Grants, KafkaAccounts, provision
from hnth_kit.ports import free_port
from hnth_kit.settings import REPO_ROOT
from hnth_kit.testing import (
    TEST_KEYS,
    TEST_SIGNING_KEYS,
    SmtpServer,
    WebhookReceiver,
    start_webhook_receiver,
)
from infra.stack import SmppServer, declared_grants, start_smpp_server
from registration.__main__ import token_of, token_parser

SERVICES = ("registration", "scheduling", "notification", "inspection")
WEBHOOK_SECRET = "system-test-webhook-secret"
OWN = {
    "registration": {"HNTH_SIGNING_KEYS": TEST_SIGNING_KEYS},
    "notification": {"HNTH_LINK_SECRET": "system-test-link-secret-0123456789abcdef"},
}
"""What only one service holds: registration its signing keys, notification its link key."""


@dataclass
class Process:
    name: str
    service: str
    port: int
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = self.log.open("ab")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", self.service], env=self.env, stdout=out, stderr=out
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


@dataclass
class Platform:
    urls: dict[str, str]
    env: dict[str, str]
    topic_prefix: str
    logs: Path
    bootstrap: KafkaAccess
    processes: dict[str, Process] = field(default_factory=dict)
    smtp: SmtpServer | None = None
    webhook: WebhookReceiver | None = None
    smpp: SmppServer | None = None

    @property
    def topics(self) -> Topics:
        return Topics(prefix=self.topic_prefix)

    def token(self, *args: str) -> str:
        """What `python -m registration token ARGS` prints, made in this process with
        registration's keys (a process per token spent seconds importing; the command
        itself is tested in registration's tests)."""
        return token_of(TEST_KEYS, token_parser().parse_args(list(args)))

    def kill(self, name: str) -> None:
        """`kill -9` one process (e.g. `scheduling-1`)."""
        process = self.processes[name]
        assert process.popen is not None
        process.popen.send_signal(signal.SIGKILL)
        process.popen.wait(timeout=10)

    def restart(self, name: str, **env: str) -> None:
        """Start a stopped process again (with extra settings, e.g. a shifted clock)."""
        process = self.processes[name]
        if process.running():
            self.kill(name)
        process.env = {**process.env, **env}
        process.start()
        _wait_ready([process], self.logs)

    @contextlib.asynccontextmanager
    async def _directory_partitions(self) -> AsyncIterator[tuple[Any, list[Any]]]:
        """A consumer (for end offsets) and the directory topic's partitions."""
        from aiokafka import AIOKafkaConsumer, TopicPartition

        from hnth_kit.testing import _partitions

        topic = Topics(prefix=self.topic_prefix).directory
        consumer = AIOKafkaConsumer(**access_of(self.bootstrap).aiokafka())
        await consumer.start()
        try:
            partitions = [TopicPartition(topic, p) for p in await _partitions(consumer, topic, 30)]
            yield consumer, partitions
        finally:
            await consumer.stop()

    async def directory_end(self) -> int:
        """How many directory events are on the topic now (before a test adds some)."""
        async with self._directory_partitions() as (consumer, partitions):
            return sum((await consumer.end_offsets(partitions)).values())

    async def directory_taken_in(
        self, service: str = "scheduling", timeout: float = 180, expected: int | None = None
    ) -> None:
        """Wait until `service` has consumed every demo directory entry registration
        announced at start (or, given `expected`, that many directory events: a test's own
        entries, after `directory_end`): a meeting registered before that may name
        endpoints or groups it does not know yet (it rejects them)."""
        from aiokafka.admin import AIOKafkaAdminClient

        from registration.directory import read_directories

        if expected is None:
            directories = read_directories(Path(self.env["HNTH_DIRECTORY_DIR"]))
            expected = sum(1 + len(f.units) + len(f.endpoints) for f in directories)
        group = f"hnth-{service}-{self.topic_prefix[1:-1]}"
        admin = AIOKafkaAdminClient(**access_of(self.bootstrap).aiokafka())
        await admin.start()
        try:
            async with self._directory_partitions() as (consumer, partitions):
                deadline = time.monotonic() + timeout
                while True:
                    ends = await consumer.end_offsets(partitions)
                    done = await admin.list_consumer_group_offsets(group)
                    consumed = sum(done[tp].offset for tp in partitions if tp in done)
                    if sum(ends.values()) >= expected and consumed >= sum(ends.values()):
                        return
                    if time.monotonic() > deadline:
                        names = [n for n, p in self.processes.items() if p.service == service]
                        raise AssertionError(
                            f"{service} consumed {consumed} of {expected} directory entries\n"
                            + _log_tails(self.logs, names)
                        )
                    await asyncio.sleep(0.5)
        finally:
            await admin.close()

    async def publish(self, *events: Event) -> None:
        """Publish as another system would, straight onto the topics."""
        producer = Producer(self.bootstrap, client_id="system-test")
        await producer.start()
        try:
            await producer.send(
                [OutMessage(self.topics.of(e), key_of(e), e.to_json()) for e in events]
            )
        finally:
            await producer.stop()


def _settings_env(infra, unique: str, smtp: SmtpServer, webhook: WebhookReceiver) -> dict[str, str]:
    return {
        **os.environ,
        **infra.kafka.environment(),
        "HNTH_MONGODB_URL": infra.mongodb_url,
        "HNTH_TOPIC_PREFIX": f"t{unique}.",
        "HNTH_POLICY_DIR": str(REPO_ROOT / "policies"),
        "HNTH_OUTBOX_POLL_SECONDS": "0.1",
        "HNTH_TIMER_POLL_SECONDS": "0.2",
        "HNTH_SMTP_HOST": "127.0.0.1",
        "HNTH_SMTP_PORT": str(smtp.port),
        "HNTH_SMTP_TIMEOUT_SECONDS": "30",
        "HNTH_DELIVERY_LEASE_SECONDS": "120",  # longer than a group's 3 rounds of 30 s
        "HNTH_WEBHOOK_URLS": f'["{webhook.url}"]',
        "HNTH_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "HNTH_DELIVERY_POLL_SECONDS": "0.2",
        "HNTH_NOTICE_FIGURES_SECONDS": "0",
        "HNTH_TIMERS_GAUGE_SECONDS": "0",
        "HNTH_DELIVERY_BACKOFF_SECONDS": "0.5",
        "HNTH_DELIVERY_MAX_BACKOFF_SECONDS": "2",
    }


ONE_EACH = {"registration": 1, "scheduling": 1, "notification": 1, "inspection": 1}
SHARED_PROVINCES = ("tuyen-quang", "lao-cai", "ho-chi-minh", "thua-thien-hue")
"""The directories the session's shared platform loads: its modules' provinces (Thừa
Thiên Huế is test_metrics' alone: its per-province figures are read whole)."""
SHARED_FIRST_DAY = 12
"""The first day ahead `SharedDays` hands out: past the days the older shared modules name
themselves (+20 h, 3, 4, 5 and 9 days ahead)."""


class SharedDays:
    """Hands out whole days no other test on the shared platform is given, so meetings on
    the same endpoints never clash (a clash would be a rejection the test did not mean)."""

    def __init__(self, first: int = SHARED_FIRST_DAY) -> None:
        self._next = first

    def take(self, count: int = 1) -> datetime:
        """The first of `count` consecutive days of one's own, at 01:00 UTC (08:00 in Việt
        Nam): day + timedelta(days=n) for n < count is one's own as well."""
        first, self._next = self._next, self._next + count
        today = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0)
        return today + timedelta(days=first)


@pytest.fixture(scope="session")
def shared_days() -> SharedDays:
    """Days of their own for the tests on `shared_platform`."""
    return SharedDays()


@pytest.fixture
def own_day(shared_days: SharedDays) -> datetime:
    """A day (01:00 UTC) no other test on `shared_platform` meets on."""
    return shared_days.take()


@pytest.fixture(scope="module")
def provinces() -> tuple[str, ...]:
    """Whose demo directory a module's platform loads; a module overrides it. Only the
    provinces its tests use: the services take in every entry before the platform is
    ready, and Lạng Sơn's 240 alone used to be half of a platform's start."""
    return ("tuyen-quang",)


@pytest.fixture
def replicas() -> dict[str, int]:
    """How many processes of each service; a test overrides it with its own fixture."""
    return dict(ONE_EACH)


@pytest.fixture
def clock_offset() -> timedelta:
    """How far every service's clock is shifted from the real one; a test that needs a
    calendar date (e.g. the year-end report window) overrides it, so it passes on any day."""
    return timedelta(0)


@pytest.fixture
def platform_env() -> dict[str, str]:
    """Settings every process gets besides the usual ones; a test overrides it (e.g. its own
    `HNTH_POLICY_DIR` and `HNTH_DIRECTORY_DIR` with a made-up province)."""
    return {}


@pytest.fixture
async def platform(
    infra, unique, tmp_path, replicas, clock_offset, platform_env, provinces
) -> AsyncIterator[Platform]:
    """The four services as real processes, for this test alone."""
    async with running_platform(
        infra, unique, tmp_path, replicas, clock_offset, platform_env, provinces
    ) as platform:
        yield platform


@pytest.fixture(scope="module")
async def module_platform(infra, tmp_path_factory, provinces) -> AsyncIterator[Platform]:
    """One platform for every test of a module whose tests keep to their own data (their
    own accounts, meetings): starting four services is most of a system test's time."""
    async with lasting_platform(infra, tmp_path_factory, ONE_EACH, provinces) as platform:
        yield platform


@pytest.fixture(scope="session")
async def shared_platform(infra, tmp_path_factory) -> AsyncIterator[Platform]:
    """One platform for the modules whose tests keep to their own data across modules as
    well: their own accounts, meetings on days and endpoints no other such test uses,
    never a clock shift or a restart. A module opts in by defining
    `platform = shared_platform` in a fixture of its own (see test_console_pages)."""
    async with lasting_platform(infra, tmp_path_factory, ONE_EACH, SHARED_PROVINCES) as platform:
        yield platform


@contextlib.asynccontextmanager
async def lasting_platform(
    infra,
    tmp_path_factory: pytest.TempPathFactory,
    replicas: dict[str, int],
    provinces: Sequence[str] = ("tuyen-quang",),
) -> AsyncIterator[Platform]:
    """A platform for more than one test, and its topics deleted after it."""
    from hnth_kit.topics_admin import delete_topics

    unique = uuid.uuid4().hex[:10]
    logs = tmp_path_factory.mktemp("platform")
    try:
        async with running_platform(
            infra, unique, logs, replicas, timedelta(0), provinces=provinces
        ) as platform:
            yield platform
    finally:
        await delete_topics(infra.kafka, f"t{unique}.")


@contextlib.asynccontextmanager
async def running_platform(
    infra,
    unique: str,
    tmp_path: Path,
    replicas: dict[str, int],
    clock_offset: timedelta,
    extra_env: dict[str, str] | None = None,
    provinces: Sequence[str] = ("tuyen-quang",),
) -> AsyncIterator[Platform]:
    smtp = SmtpServer(free_port())
    smtp.start()
    smpp = start_smpp_server(tmp_path / "smpp")
    webhook, server = await start_webhook_receiver()
    base_env = {**_settings_env(infra, unique, smtp, webhook), **smpp.env(), **(extra_env or {})}
    if "HNTH_DIRECTORY_DIR" not in base_env:
        base_env["HNTH_DIRECTORY_DIR"] = str(_directories(tmp_path / "data", provinces))
    if clock_offset:
        base_env["HNTH_CLOCK_OFFSET_SECONDS"] = str(clock_offset.total_seconds())
    platform = Platform(
        urls={},
        env=base_env,
        topic_prefix=f"t{unique}.",
        logs=tmp_path,
        bootstrap=infra.kafka,
        smtp=smtp,
        webhook=webhook,
        smpp=smpp,
    )
    registration_port = free_port()
    base_env["HNTH_AUTH_JWKS_URL"] = f"http://127.0.0.1:{registration_port}/.well-known/jwks.json"
    users = []
    for service in SERVICES:
        group = f"hnth-{service}-{unique}"
        signed_in = await _own_kafka_user(infra, service, base_env, group)
        users.append(signed_in.get("HNTH_KAFKA_USERNAME"))
        for n in range(replicas.get(service, 1)):
            port = registration_port if (service, n) == ("registration", 0) else free_port()
            env = {
                **base_env,
                **OWN.get(service, {}),
                "HNTH_HTTP_PORT": str(port),
                "HNTH_DATABASE": f"{service}_{unique}",
                # replicas share a group; tests never do (a finished test's members would
                # hold up the next test's rebalance until their session times out)
                "HNTH_CONSUMER_GROUP": group,
                **signed_in,
            }
            if service == "notification":
                env["HNTH_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
            name = f"{service}-{n}"
            process = Process(name, service, port, env, tmp_path / f"{name}.log")
            process.start()
            platform.processes[name] = process
            platform.urls.setdefault(service, process.url)
    try:
        _wait_ready(list(platform.processes.values()), tmp_path)
        # every consumer of the directory: scheduling checks a request's endpoints against
        # it, notification looks up addresses when it sends, inspection lists checklists
        await asyncio.gather(
            *(platform.directory_taken_in(s) for s in ("scheduling", "notification", "inspection"))
        )
        yield platform
    finally:
        for process in platform.processes.values():
            if process.running():
                assert process.popen is not None
                process.popen.terminate()
        for process in platform.processes.values():
            if process.popen is not None:
                try:
                    process.popen.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.popen.kill()
        server.close()
        smtp.stop()
        smpp.stop()
        if infra.kafka.uses_sasl:
            accounts = KafkaAccounts(infra.kafka)
            for user in users:
                accounts.delete_user(user)


_DECLARED: dict[tuple[str, str], Grants] = {}


def _declared_grants(service: str, env: dict[str, str]) -> Grants:
    """What the service declares with no topic prefix: asked once per run and policy folder
    (a process each time), since its provinces' inbound topics are among its inputs."""
    key = (service, env["HNTH_POLICY_DIR"])
    if key not in _DECLARED:
        _DECLARED[key] = declared_grants(service, {**env, "HNTH_TOPIC_PREFIX": ""})
    return _DECLARED[key]


async def _own_kafka_user(infra, service: str, env: dict[str, str], group: str) -> dict[str, str]:
    """A Kafka user of the service's own on an authenticating bus, granted exactly what the
    service declares on this platform's topics and group; its `HNTH_KAFKA_*` settings."""
    if not infra.kafka.uses_sasl:
        return {}
    own = {**env, **OWN.get(service, {})}
    base = _declared_grants(service, own)
    grants = base.prefixed(env["HNTH_TOPIC_PREFIX"]).for_group(group)
    user = f"{service}-{group.rsplit('-', 1)[-1]}"
    signed_in = await provision(infra.kafka, user, secrets.token_urlsafe(18), grants)
    return signed_in.environment()


def _directories(folder: Path, provinces: Sequence[str]) -> Path:
    """A directory folder with the shipped demo directories of `provinces` only."""
    folder.mkdir(parents=True, exist_ok=True)
    for tenant in provinces:
        shipped = REPO_ROOT / "data" / f"{tenant}.yaml"
        (folder / shipped.name).write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


READY_SECONDS = float(os.environ.get("HNTH_TEST_READY_SECONDS", "240"))


def _wait_ready(processes: list[Process], logs: Path) -> None:
    """Wait for every process's /readyz. Generous: on a loaded 2-core machine four services
    importing at once have missed 90 s. A process that exits fails at once (its port may be
    answered by someone else's process, so a 200 alone proves nothing)."""
    deadline = time.monotonic() + READY_SECONDS
    pending = {p.name: p for p in processes}
    while pending and time.monotonic() < deadline:
        if any(not p.running() for p in processes):
            break
        for name, process in list(pending.items()):
            try:
                if httpx.get(f"{process.url}/readyz", timeout=5).status_code == 200:
                    del pending[name]
            except httpx.HTTPError:
                pass
        time.sleep(0.3)
    exited = {p.name: p.popen.poll() for p in processes if p.popen and p.popen.poll() is not None}
    if pending or exited:
        raise AssertionError(
            f"services not ready (waited up to {READY_SECONDS:.0f} s): {sorted(pending)}; "
            f"exited (name: code): {exited}\n" + _log_tails(logs, sorted({*pending, *exited}))
        )


def _log_tails(logs: Path, names: list[str], chars: int = 3000) -> str:
    """The end of each named process's log, for a failure message."""
    tails = []
    for name in names:
        log = logs / f"{name}.log"
        text = log.read_text(errors="replace")[-chars:] if log.exists() else "(no log)"
        tails.append(f"----- {name} ({log}) -----\n{text}")
    return "\n".join(tails)


@pytest.fixture
def console_env(platform: Platform) -> dict[str, str]:
    """The console's settings for a running platform (it reads the services over HTTP)."""
    return {
        **platform.env,
        "HNTH_REGISTRATION_URL": platform.urls["registration"],
        "HNTH_NOTIFICATION_URL": platform.urls["notification"],
        "HNTH_INSPECTION_URL": platform.urls["inspection"],
        "HNTH_SCHEDULING_URL": platform.urls["scheduling"],
        "HNTH_BOARD_REFRESH_SECONDS": "5",
    }


@pytest.fixture
def console_url(console_env, tmp_path) -> Iterator[str]:
    """The operator console as a real process (for the browser) in front of the platform."""
    port = free_port()
    # no board refresh while a browser reads it: a reload between finding an element and
    # reading it is a stale element (test_console_pages checks the refresh tag itself)
    env = {**console_env, "HNTH_HTTP_PORT": str(port), "HNTH_BOARD_REFRESH_SECONDS": "300"}
    console = Process("console", "hnth_console", port, env, tmp_path / "console.log")
    console.start()
    try:
        _wait_ready([console], tmp_path)
        yield console.url
    finally:
        assert console.popen is not None
        console.popen.terminate()
        try:
            console.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            console.popen.kill()
