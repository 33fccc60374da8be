"""The ops CLI against the real broker: tokens, and dead letters listed and replayed."""

from __future__ import annotations

import asyncio
import json

from hnth_cli.main import app
from typer.testing import CliRunner

from hnth_kit.auth import Role, verify_token
from hnth_kit.kafka import OutMessage, Producer
from hnth_kit.testing import headers_of, read_topic
from hnth_kit.topics_admin import ensure_topics

SECRET = "cli-test-secret-0123456789abcdef-xyz"
runner = CliRunner()


def test_token_issue_prints_a_verifiable_token_alone(monkeypatch) -> None:
    monkeypatch.setenv("HNTH_AUTH_SECRET", SECRET)
    result = runner.invoke(app, ["token", "issue", "--role", "registrar", "--unit", "SYT"])
    assert result.exit_code == 0, result.output
    principal = verify_token(SECRET, result.stdout.strip())
    assert (principal.role, principal.unit, principal.tenant) == (
        Role.REGISTRAR,
        "SYT",
        "tuyen-quang",
    )
    refused = runner.invoke(app, ["token", "issue", "--role", "technician"])
    assert refused.exit_code == 2


def test_dead_letters_are_listed_with_their_reason_and_replayed(infra, unique) -> None:
    topic = f"t{unique}.hnth.meetings"
    dlq = topic + ".dlq"
    headers = (
        ("hnth-dlq-reason", "invalid_json"),
        ("hnth-dlq-service", "scheduling"),
        ("hnth-dlq-error", "Expecting value"),
        ("hnth-original-topic", topic),
        ("hnth-original-offset", "7"),
    )

    async def poison() -> None:
        await ensure_topics(infra.bootstrap_servers, [topic])
        producer = Producer(infra.bootstrap_servers, client_id="cli-test")
        await producer.start()
        try:
            await producer.send([OutMessage(dlq, b"mtg-1", b"{not json", headers=headers)])
        finally:
            await producer.stop()

    asyncio.run(poison())
    common = ["--bootstrap", infra.bootstrap_servers]
    listed = runner.invoke(app, ["dlq", "list", "--prefix", f"t{unique}.", "--json", *common])
    assert listed.exit_code == 0, listed.output
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (row["reason"], row["hnth-dlq-service"]) == ("invalid_json", "scheduling")

    shown = runner.invoke(app, ["dlq", "show", row["ref"], *common])
    assert "{not json" in shown.stdout
    replayed = runner.invoke(app, ["dlq", "replay", row["ref"], *common])
    assert replayed.exit_code == 0, replayed.output
    [message] = asyncio.run(read_topic(infra.bootstrap_servers, topic, expect=1))
    assert (message.key, message.value) == (b"mtg-1", b"{not json")
    assert headers_of(message)["hnth-replayed-from"] == row["ref"]
    missing = runner.invoke(app, ["dlq", "show", f"{dlq}:0:999", *common])
    assert missing.exit_code == 1
