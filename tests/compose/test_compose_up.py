"""The production compose file on real containers (`make compose-test`, run by .ci/run).

Our own Docker engine (infra/docker_engine.py: Debian's dockerd on a socket of its own),
every image built locally (`make images`), then: `up --wait` on the services' /readyz;
a meeting registered over the published port is scheduled, notified (mail in the catcher)
and its checklists open; scaled to 3 schedulers and 2 notifiers, a burst of overlapping
meetings with one scheduler killed mid-burst: no double booking, every request decided
once, every notice sent once; `down` + `up` keeps the data; `down -v` leaves nothing.
The engine not starting is a failure, never a skip. Marked `compose`: `make test` leaves
it to `make compose-test`.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError

from hnth_contracts import SlotAssigned, SlotRejected, decode_event
from hnth_kit.auth import Role, SigningKeys, issue_token
from hnth_kit.kafka_access import KafkaAccess
from hnth_kit.ports import free_port
from hnth_kit.testing import eventually, send_one
from infra import docker_engine
from infra.stack import ROOT, StackError
from infra.tls import broker_certificates
from tests.drills.conftest import DIRECTORY, Drill, _no_double_booking

pytestmark = [pytest.mark.compose, pytest.mark.timeout(1500)]
PROJECT = "hnth-compose-test"
OVERRIDE = Path(__file__).with_name("docker-compose.test.yml")
BURST = 12
OURS = ("HNTH_", "MONGO_", "GRAFANA_", "COMPOSE_")
KAFKA_PASSWORDS = tuple(
    f"HNTH_KAFKA_{user}_PASSWORD"
    for user in (
        "BROKER",
        "ADMIN",
        "REGISTRATION",
        "SCHEDULING",
        "NOTIFICATION",
        "INSPECTION",
        "CONSOLE",
    )
)
TENANT = "tuyen-quang"
# runs in a service container on the compose network: the slot decisions on the topic and
# the outbox entries never published, read as the drills read them
PROBE = """
import asyncio, json
from pymongo import AsyncMongoClient
from hnth_kit.testing import read_all

async def main():
    slots = await read_all("kafka:9092", ["hnth.slots"])
    client = AsyncMongoClient("mongodb://mongo:27017/")
    unsent = 0
    for service in ("registration", "scheduling", "notification", "inspection"):
        db = client["hnth_" + service]
        for name in await db.list_collection_names():
            async for doc in db[name].find({"_outbox_n": {"$gt": 0}}, {"_outbox": 1}):
                for entry in doc.get("_outbox") or []:
                    unsent += not await db["outbox_sent"].count_documents(
                        {"_id": entry["event_id"]}, limit=1)
    await client.close()
    print(json.dumps({"slots": [r.value.decode() for r in slots], "unsent": unsent}))

asyncio.run(main())
"""


class Stack:
    """`docker compose` on our engine, the production file plus the test's override."""

    def __init__(self, folder: Path) -> None:
        self.env_file = folder / "compose.env"
        self.first_meeting = ""
        self.folder = folder
        self.ports = {
            name: free_port() for name in ("registration", "inspection", "console", "mail", "kafka")
        }
        variables = {
            "HNTH_TEST_SECRETS": str(folder),
            "HNTH_KAFKA_IMAGE": docker_engine.image("kafka"),
            "HNTH_MAIL_IMAGE": docker_engine.image("mail"),
            "HNTH_REGISTRATION_PORT": self.ports["registration"],
            "HNTH_INSPECTION_PORT": self.ports["inspection"],
            "HNTH_CONSOLE_PORT": self.ports["console"],
            "HNTH_MAIL_WEB_PORT": self.ports["mail"],
            "HNTH_KAFKA_PORT": self.ports["kafka"],
            "HNTH_KAFKA_PUBLIC_HOST": "127.0.0.1",
            # every replica on an ephemeral host port
            "HNTH_SCHEDULING_PORTS": "0",
            "HNTH_NOTIFICATION_PORTS": "0",
            **{
                key: secrets.token_urlsafe(24)
                for key in (
                    "HNTH_LINK_SECRET",
                    "HNTH_CONSOLE_SESSION_SECRET",
                    "MONGO_ROOT_PASSWORD",
                    "MONGO_REGISTRATION_PASSWORD",
                    "MONGO_SCHEDULING_PASSWORD",
                    "MONGO_NOTIFICATION_PASSWORD",
                    "MONGO_INSPECTION_PASSWORD",
                    "GRAFANA_ADMIN_PASSWORD",
                    *KAFKA_PASSWORDS,
                )
            },
        }
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in variables.items()))
        self.variables = variables
        # the operator's TLS files, as `python -m infra.tls` makes them
        broker_certificates(folder / "kafka", ["127.0.0.1"])
        self.keys = SigningKeys.generate()
        keys_file = folder / "signing-keys.json"
        keys_file.write_text(json.dumps(self.keys.private()))
        keys_file.chmod(0o644)  # a bind-mounted secret: the services run as uid 10001
        (folder / "prometheus.token").write_text("unused: monitoring is not started\n")

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = ["docker", "compose", "-p", PROJECT, "--env-file", str(self.env_file)]
        cmd += ["-f", str(ROOT / "docker-compose.yml"), "-f", str(OVERRIDE), *args]
        # only the env file sets the stack's variables, never this process's environment
        env = {k: v for k, v in docker_engine.env().items() if not k.startswith(OURS)}
        return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)

    def compose(self, *args: str) -> str:
        proc = self._run(*args)
        if proc.returncode != 0:
            logs = self._run("logs", "--no-color", "--tail", "20").stdout
            raise AssertionError(f"{' '.join(args)} failed:\n{proc.stderr}\n{logs[-8000:]}")
        return proc.stdout

    def kafka(self, user: str, password: str | None = None) -> KafkaAccess:
        """The published Kafka port, signed in as `user` over TLS."""
        secret = password or str(self.variables[f"HNTH_KAFKA_{user.upper()}_PASSWORD"])
        return KafkaAccess(
            f"127.0.0.1:{self.ports['kafka']}",
            "SASL_SSL",
            "SCRAM-SHA-512",
            f"hnth-{user}",
            secret,
            str(self.folder / "kafka" / "ca.crt"),
        )

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def token(self, role: Role = Role.OPERATOR, **kwargs: str) -> dict[str, str]:
        token = issue_token(self.keys, role=role, tenant=TENANT, **kwargs)
        return {"Authorization": f"Bearer {token}"}

    def containers(self, service: str | None = None, *, every: bool = False) -> list[str]:
        args = ["ps", "-q", *(["-a"] if every else []), *([service] if service else [])]
        return self.compose(*args).split()

    def probe(self) -> dict:
        return json.loads(self.compose("exec", "-T", "registration", "python", "-c", PROBE))

    def mail(self) -> list[dict[str, str]]:
        return httpx.get(f"{self.url('mail')}/messages.json", timeout=10).json()


def _timed(label: str, times: dict[str, float], started: float) -> None:
    times[label] = round(time.monotonic() - started, 1)
    print(f"compose test: {label} {times[label]} s", flush=True)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    times: dict[str, float] = {}
    started = time.monotonic()
    try:
        docker_engine.start()
    except StackError as exc:  # a failure, never a skip: this test is the deployment's proof
        pytest.fail(f"the Docker engine did not start: {exc}", pytrace=False)
    _timed("engine", times, started)
    try:
        docker_engine.images()
        _timed("images", times, started)
        stack = Stack(tmp_path_factory.mktemp("compose"))
        stack.compose("down", "-v", "--remove-orphans")  # a previous run's leftovers
        stack.compose("up", "-d", "--wait", "--wait-timeout", "300")
        _timed("up --wait", times, started)
        yield stack
        stack.compose("down", "-v", "--remove-orphans")
        assert not stack.containers(every=True)
        volumes = docker_engine.docker("volume", "ls", "-q", capture=True).stdout
        assert PROJECT not in volumes, volumes
        _timed("down -v", times, started)
    finally:
        if not os.environ.get("HNTH_KEEP_ENGINE"):
            subprocess.run(
                ["docker", "compose", "-p", PROJECT, "down", "-v", "--remove-orphans"],
                cwd=ROOT,
                env=docker_engine.env(),
                capture_output=True,
            )
            docker_engine.stop()


def _meeting(n: int, start: datetime, endpoints: list[str], hours: int = 1) -> dict[str, object]:
    unit = next(e["unit"] for e in DIRECTORY["endpoints"] if e["code"] == endpoints[0])
    return {
        "title": f"Họp thử triển khai {n}",
        "host_unit": unit,
        "chair": "Lãnh đạo",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=hours)).isoformat(),
        "main_endpoint": endpoints[0],
        "endpoints": endpoints[1:],
    }


async def _register(http: httpx.AsyncClient, stack: Stack, body: dict[str, object]) -> str:
    response = await http.post(
        f"{stack.url('registration')}/meetings", json=body, headers=stack.token()
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


NICENESS = """
import os, sys
for pid in filter(str.isdigit, os.listdir("/proc")):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        if f.read().split(b"\\0")[1:3] == [b"-m", sys.argv[1].encode()]:
            print(os.getpriority(os.PRIO_PROCESS, int(pid)))
            break
"""
"""A service's process's niceness, found by its command line (`python -m <service>`)."""


async def test_a_meeting_goes_through_the_containers(stack: Stack) -> None:
    start = (datetime.now(UTC) + timedelta(days=5)).replace(minute=0, second=0, microsecond=0)
    codes = ["TQ-UBND", "TQ-STTTT", "TQ-H-SONDUONG"]
    async with httpx.AsyncClient(timeout=15) as http:
        meeting_id = await _register(http, stack, _meeting(0, start, codes, hours=2))
        await eventually(
            lambda: http.get(
                f"{stack.url('registration')}/meetings/{meeting_id}", headers=stack.token()
            ),
            until=lambda r: r.json().get("status") == "scheduled",
            timeout=300,
        )
        board = await eventually(
            lambda: http.get(
                f"{stack.url('inspection')}/meetings/{meeting_id}/readiness",
                headers=stack.token(),
            ),
            until=lambda r: r.status_code == 200 and len(r.json()) == len(codes),
            timeout=300,
        )
        assert {c["endpoint"] for c in board.json()} == set(codes)

        async def mail() -> list[dict[str, str]]:
            return [m for m in stack.mail() if meeting_id in m.get("X-HNTH-Notice", "")]

        # the 4 standing recipients and one technician per endpoint
        found = await eventually(mail, until=lambda ms: len(ms) >= 4 + len(codes), timeout=300)
        assert len({m["Message-ID"] for m in found}) == 4 + len(codes)
    stack.first_meeting = meeting_id
    # the services whose work can wait run at a lower CPU priority (HNTH_CPU_NICE)
    for service, nice in (("notification", 10), ("inspection", 10), ("scheduling", 0)):
        niceness = stack.compose("exec", "-T", service, "python", "-c", NICENESS, service)
        assert int(niceness) == nice, service


async def test_the_bus_takes_only_its_own_users_over_tls(stack: Stack) -> None:
    """SASL/SCRAM over TLS with the operator's certificate on the published port: no
    plaintext client, no wrong password; a service's user writes its own topics only."""
    with pytest.raises(KafkaConnectionError):
        await send_one(KafkaAccess(f"127.0.0.1:{stack.ports['kafka']}"), "hnth.meetings")
    with pytest.raises(KafkaConnectionError):
        await send_one(stack.kafka("registration", password="not-its-password"), "hnth.meetings")
    with pytest.raises(TopicAuthorizationFailedError):
        await send_one(stack.kafka("registration"), "hnth.slots")
    # the provisioning jobs made every topic, as the admin, with room for 6 replicas
    admin = AIOKafkaAdminClient(**stack.kafka("admin").aiokafka())
    await admin.start()
    try:
        described = await admin.describe_topics(["hnth.meetings", "hnth.slots"])
    finally:
        await admin.close()
    partitions = {d["topic"]: len(d["partitions"]) for d in described}
    assert min(partitions.values()) >= 6, partitions


async def test_replicas_and_a_killed_scheduler_lose_nothing(stack: Stack) -> None:
    stack.compose(
        "up", "-d", "--wait", "--wait-timeout", "300",
        "--scale", "scheduling=3", "--scale", "notification=2",
    )  # fmt: skip
    assert len(stack.containers("scheduling")) == 3
    assert len(stack.containers("notification")) == 2
    day = (datetime.now(UTC) + timedelta(days=8)).replace(hour=1, minute=0, second=0)
    codes = [e["code"] for e in DIRECTORY["endpoints"]][:8]
    bodies = [  # overlapping: every two meetings share an endpoint and an hour
        _meeting(n, day + timedelta(hours=n // 3), [codes[n % 4], codes[4 + n % 4]])
        for n in range(BURST)
    ]
    victim = stack.containers("scheduling")[1]
    async with httpx.AsyncClient(timeout=15) as http:
        ids = [await _register(http, stack, body) for body in bodies[: BURST // 2]]
        # a crash, not `docker kill` (which Docker counts as a deliberate stop and does not
        # restart): the container's process dies by SIGKILL, its restart policy acts
        pid = docker_engine.docker("inspect", "-f", "{{.State.Pid}}", victim, capture=True)
        os.kill(int(pid.stdout), 9)
        ids += [await _register(http, stack, body) for body in bodies[BURST // 2 :]]

    def restarted() -> bool:
        state = docker_engine.docker(
            "inspect", "-f", "{{.RestartCount}} {{.State.Health.Status}}", victim, capture=True
        ).stdout.split()
        return int(state[0]) >= 1 and state[1] == "healthy"

    deadline = time.monotonic() + 300
    while not restarted():
        assert time.monotonic() < deadline, "the killed scheduler never came back healthy"
        await asyncio.sleep(1)

    async def decided() -> dict:
        return stack.probe()

    def all_decided(found: dict) -> bool:
        events = [decode_event(v.encode()) for v in found["slots"]]
        done = {e.meeting_id for e in events if isinstance(e, SlotAssigned | SlotRejected)}
        return set(ids) <= done

    found = await eventually(decided, until=all_decided, timeout=300)
    events = [(decode_event(v.encode()), None) for v in found["slots"]]
    ours = [(e, r) for e, r in events if getattr(e, "meeting_id", None) in set(ids)]
    # one decision per request: one decision event id (the killed replica's relay may
    # have published an event and died before its `outbox_sent` marker, so the next
    # holder publishes the same event again: a copy consumers drop, as in the drills)
    decision_ids: dict[str, set[str]] = defaultdict(set)
    for e, _ in ours:
        if isinstance(e, SlotAssigned | SlotRejected) and e.revision == 0:
            decision_ids[e.meeting_id].add(str(e.event_id))
    assert set(decision_ids) == set(ids), "a request without a decision"
    doubled = {m: d for m, d in decision_ids.items() if len(d) > 1}
    assert not doubled, f"decided twice: {list(doubled.items())[:3]}"
    _no_double_booking([e for e, _ in events if isinstance(e, SlotAssigned)])
    expected = Drill.expected_mail(ours)

    async def burst_mail() -> Counter[str]:
        return Counter(
            m["Message-ID"]
            for m in stack.mail()
            if any(i in m.get("X-HNTH-Notice", "") for i in ids)
        )

    mail = await eventually(burst_mail, until=lambda c: len(c) >= expected, timeout=300)
    assert len(mail) == expected
    assert max(mail.values()) == 1, f"a notice sent twice: {mail.most_common(2)}"
    assert (await decided())["unsent"] == 0


async def test_data_survives_down_and_up(stack: Stack) -> None:
    meeting_id = stack.first_meeting
    assert meeting_id, "the first test registered none"
    stack.compose("down")
    assert not stack.containers(every=True)
    stack.compose("up", "-d", "--wait", "--wait-timeout", "300")
    async with httpx.AsyncClient(timeout=15) as http:
        response = await http.get(
            f"{stack.url('registration')}/meetings/{meeting_id}", headers=stack.token()
        )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "scheduled"
