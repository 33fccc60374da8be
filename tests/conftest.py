"""System-test fixtures: the four services as real processes on the real broker and database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from infra.stack import free_port

SERVICES = ("registration", "scheduling", "notification", "inspection")
SECRET = "system-test-secret-not-for-production"


@dataclass
class Platform:
    urls: dict[str, str]
    env: dict[str, str]
    topic_prefix: str
    logs: Path
    unique: str = ""

    async def directory_taken_in(self, service: str = "scheduling", timeout: float = 90) -> None:
        """Wait until `service` has consumed every demo directory entry registration
        announced at start: a meeting registered before that may name endpoints it does
        not know yet (it rejects them: `directory.endpoint_active`)."""
        from aiokafka import AIOKafkaConsumer, TopicPartition
        from aiokafka.admin import AIOKafkaAdminClient

        from hnth_contracts import Topics
        from hnth_kit.settings import REPO_ROOT
        from hnth_kit.testing import _partitions
        from registration.directory import read_directories

        expected = sum(
            1 + len(f.units) + len(f.endpoints) for f in read_directories(REPO_ROOT / "data")
        )
        bootstrap = self.env["HNTH_KAFKA_BOOTSTRAP_SERVERS"]
        topic = Topics(prefix=self.topic_prefix).directory
        group = f"hnth-{service}-{self.unique}"
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
        await admin.start()
        await consumer.start()
        try:
            deadline = time.monotonic() + timeout
            partitions = [TopicPartition(topic, p) for p in await _partitions(consumer, topic, 30)]
            while True:
                ends = await consumer.end_offsets(partitions)
                done = await admin.list_consumer_group_offsets(group)
                consumed = sum(done[tp].offset for tp in partitions if tp in done)
                if sum(ends.values()) >= expected and consumed >= sum(ends.values()):
                    return
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"{service} consumed {consumed} of {expected} directory entries"
                    )
                await asyncio.sleep(0.5)
        finally:
            await consumer.stop()
            await admin.close()

    def token(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "registration", "token", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()


@pytest.fixture
def platform(infra, unique, tmp_path) -> Iterator[Platform]:
    prefix = f"t{unique}."
    base_env = {
        **os.environ,
        "HNTH_KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap_servers,
        "HNTH_MONGODB_URL": infra.mongodb_url,
        "HNTH_TOPIC_PREFIX": prefix,
        "HNTH_AUTH_SECRET": SECRET,
        "HNTH_OUTBOX_POLL_SECONDS": "0.1",
    }
    procs: list[subprocess.Popen[bytes]] = []
    urls: dict[str, str] = {}
    for name in SERVICES:
        port = free_port()
        # a consumer group of its own: groups shared with other tests on the broker rebalance
        env = {
            **base_env,
            "HNTH_HTTP_PORT": str(port),
            "HNTH_DATABASE": f"{name}_{unique}",
            "HNTH_CONSUMER_GROUP": f"hnth-{name}-{unique}",
        }
        log = (tmp_path / f"{name}.log").open("wb")
        procs.append(
            subprocess.Popen([sys.executable, "-m", name], env=env, stdout=log, stderr=log)
        )
        urls[name] = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(urls, procs, tmp_path)
        yield Platform(urls=urls, env=base_env, topic_prefix=prefix, logs=tmp_path, unique=unique)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_ready(urls: dict[str, str], procs: list[subprocess.Popen[bytes]], logs: Path) -> None:
    deadline = time.monotonic() + 60
    pending = dict(urls)
    while pending and time.monotonic() < deadline:
        for name, url in list(pending.items()):
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    del pending[name]
            except httpx.HTTPError:
                pass
        if any(p.poll() is not None for p in procs):
            break
        time.sleep(0.3)
    if pending:
        tails = {n: (logs / f"{n}.log").read_text(errors="replace")[-2000:] for n in pending}
        raise AssertionError(f"services not ready: {list(pending)}\n{tails}")
