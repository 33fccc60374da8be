"""System-test fixtures: the four services as real processes on the real broker and database."""

from __future__ import annotations

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
        env = {**base_env, "HNTH_HTTP_PORT": str(port), "HNTH_DATABASE": f"{name}_{unique}"}
        log = (tmp_path / f"{name}.log").open("wb")
        procs.append(
            subprocess.Popen([sys.executable, "-m", name], env=env, stdout=log, stderr=log)
        )
        urls[name] = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(urls, procs, tmp_path)
        yield Platform(urls=urls, env=base_env, topic_prefix=prefix, logs=tmp_path)
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


@pytest.fixture
def console_env(platform: Platform) -> dict[str, str]:
    """The console's settings for a running platform (it reads the services over HTTP)."""
    return {
        **platform.env,
        "HNTH_REGISTRATION_URL": platform.urls["registration"],
        "HNTH_NOTIFICATION_URL": platform.urls["notification"],
        "HNTH_INSPECTION_URL": platform.urls["inspection"],
        "HNTH_BOARD_REFRESH_SECONDS": "5",
    }


@pytest.fixture
def console_url(console_env, tmp_path) -> Iterator[str]:
    """The operator console as a real process (for the browser) in front of the platform."""
    port = free_port()
    env = {**console_env, "HNTH_HTTP_PORT": str(port)}
    log = (tmp_path / "console.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "hnth_console"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready({"console": url}, [proc], tmp_path)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
