"""`hnth replay` and `hnth report compile` against the real broker and a running inspection."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from hnth_cli.main import app
from openpyxl import load_workbook
from typer.testing import CliRunner

from hnth_kit.kafka_access import access_of
from hnth_kit.offsets import committed
from hnth_kit.ports import free_port
from hnth_kit.testing import TEST_JWKS, write_test_keys
from hnth_kit.topics_admin import ensure_topics

runner = CliRunner()
DAY = datetime(2026, 3, 1, tzinfo=UTC)


async def _history(bootstrap: str, topic: str, group: str) -> None:
    """Three messages a day apart on partition 0; `group` has consumed all of them."""
    await ensure_topics(bootstrap, [topic])
    producer = AIOKafkaProducer(**access_of(bootstrap).aiokafka())
    await producer.start()
    try:
        for n in range(3):
            when = int((DAY + timedelta(days=n)).timestamp() * 1000)
            await producer.send_and_wait(topic, f"m{n}".encode(), partition=0, timestamp_ms=when)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        **access_of(bootstrap).aiokafka(), group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.commit({tp: 3})
    finally:
        await consumer.stop()


def test_replay_rewinds_a_stopped_services_group_to_a_time(infra, unique) -> None:
    topic, group = f"t{unique}.hnth.meetings", f"hnth-scheduling-{unique}"
    asyncio.run(_history(infra.bootstrap_servers, topic, group))
    since = (DAY + timedelta(hours=12)).astimezone(UTC).isoformat()  # between m0 and m1
    result = runner.invoke(
        app,
        [
            "replay",
            "--service",
            "scheduling",
            "--group",
            group,
            "--from",
            since,
            "--bootstrap",
            infra.bootstrap_servers,
        ],
    )
    assert result.exit_code == 0, result.output
    offsets = asyncio.run(committed(infra.bootstrap_servers, group))
    assert offsets[TopicPartition(topic, 0)] == 1  # m1 and m2 are consumed again


def test_replay_refuses_while_the_service_runs(infra, unique) -> None:
    topic, group = f"t{unique}.hnth.slots", f"hnth-inspection-{unique}"
    asyncio.run(_history(infra.bootstrap_servers, topic, group))

    async def while_a_member_runs() -> tuple[int, str]:
        member = AIOKafkaConsumer(
            topic, **access_of(infra.bootstrap_servers).aiokafka(), group_id=group
        )
        await member.start()
        try:
            await member.getmany(timeout_ms=3000)  # joins the group
            result = await asyncio.to_thread(
                runner.invoke,
                app,
                [
                    "replay",
                    "--service",
                    "inspection",
                    "--group",
                    group,
                    "--from",
                    DAY.isoformat(),
                    "--bootstrap",
                    infra.bootstrap_servers,
                ],
            )
            return result.exit_code, result.output
        finally:
            await member.stop()

    code, output = asyncio.run(while_a_member_runs())
    assert code == 1
    assert "stop every replica first" in " ".join(output.split())
    offsets = asyncio.run(committed(infra.bootstrap_servers, group))
    assert offsets[TopicPartition(topic, 0)] == 3  # untouched


def test_replay_rejects_a_time_without_zone_and_an_unknown_service() -> None:
    naive = runner.invoke(app, ["replay", "--service", "scheduling", "--from", "2026-01-01"])
    assert naive.exit_code == 2
    unknown = runner.invoke(
        app, ["replay", "--service", "billing", "--from", "2026-01-01T00:00+07:00"]
    )
    assert unknown.exit_code == 2


@pytest.fixture
def inspection_url(infra, unique, tmp_path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "HNTH_KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap_servers,
        "HNTH_MONGODB_URL": infra.mongodb_url,
        "HNTH_TOPIC_PREFIX": f"t{unique}.",
        "HNTH_AUTH_JWKS": TEST_JWKS,
        "HNTH_HTTP_PORT": str(port),
        "HNTH_DATABASE": f"inspection_{unique}",
    }
    log = (tmp_path / "inspection.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "inspection"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240  # a loaded 2-core machine starts slowly
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            raise AssertionError((tmp_path / "inspection.log").read_text()[-2000:])
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_report_compile_downloads_xlsx_and_docx(inspection_url, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HNTH_SIGNING_KEYS_FILE", str(write_test_keys(tmp_path)))
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["report", "compile", "--year", "2026", "--url", inspection_url, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    xlsx, docx = out / "bao-cao-hnth-2026.xlsx", out / "bao-cao-hnth-2026.docx"
    assert load_workbook(xlsx).sheetnames
    assert docx.read_bytes()[:2] == b"PK"  # a zip container, as every .docx
    assert "checks_compliance" in result.stdout


def test_report_compile_fails_cleanly_when_inspection_is_down(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HNTH_SIGNING_KEYS_FILE", str(write_test_keys(tmp_path)))
    url = f"http://127.0.0.1:{free_port()}"
    result = runner.invoke(
        app, ["report", "compile", "--year", "2026", "--url", url, "--out", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert not list(Path(tmp_path).glob("*.xlsx"))
