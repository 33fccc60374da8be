"""The ops CLI against the real broker: tokens, and dead letters listed, replayed, discarded."""

from __future__ import annotations

import asyncio
import json

from hnth_cli.main import app
from typer.testing import CliRunner

from hnth_kit.auth import Role
from hnth_kit.dlq import read_resolutions, resolutions_topic
from hnth_kit.kafka import OutMessage, Producer
from hnth_kit.kafka_access import access_of
from hnth_kit.testing import headers_of, read_token, read_topic, write_test_keys
from hnth_kit.topics_admin import ensure_topics

runner = CliRunner()


def test_token_issue_prints_a_verifiable_token_alone(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HNTH_SIGNING_KEYS_FILE", str(write_test_keys(tmp_path)))
    result = runner.invoke(app, ["token", "issue", "--role", "registrar", "--unit", "SYT"])
    assert result.exit_code == 0, result.output
    principal = read_token(result.stdout.strip())
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


def test_a_dead_letter_is_discarded_with_a_reason_once(infra, unique) -> None:
    topic = f"t{unique}.hnth.checks"
    dlq = topic + ".dlq"
    headers = (("hnth-dlq-reason", "unknown_event"), ("hnth-original-topic", topic))

    async def poison() -> None:
        await ensure_topics(infra.bootstrap_servers, [topic])
        producer = Producer(infra.bootstrap_servers, client_id="cli-test")
        await producer.start()
        try:
            await producer.send(
                [
                    OutMessage(dlq, b"a", b"{old", headers=headers),
                    OutMessage(dlq, b"a", b"{older", headers=headers),
                ]
            )
        finally:
            await producer.stop()

    asyncio.run(poison())
    common = ["--bootstrap", infra.bootstrap_servers]
    listing = ["dlq", "list", "--prefix", f"t{unique}.", "--json", *common]
    first, second = (
        json.loads(line)["ref"] for line in runner.invoke(app, listing).stdout.splitlines()
    )

    no_reason = runner.invoke(app, ["dlq", "discard", first, "--reason", " ", *common])
    assert no_reason.exit_code == 2
    bad_ref = runner.invoke(app, ["dlq", "discard", "no-ref", "--reason", "x", *common])
    assert bad_ref.exit_code == 2
    unknown = runner.invoke(app, ["dlq", "discard", f"{dlq}:0:999", "--reason", "x", *common])
    assert unknown.exit_code == 1

    why = "Sự kiện thử nghiệm cũ, không cần xử lý lại"
    done = runner.invoke(app, ["dlq", "discard", first, "--reason", why, "--by", "ops-1", *common])
    assert done.exit_code == 0, done.output
    again = runner.invoke(app, ["dlq", "discard", first, "--reason", why, *common])
    assert again.exit_code == 3
    assert "already discarded by ops-1" in again.stderr
    assert runner.invoke(app, ["dlq", "replay", first, *common]).exit_code == 3

    # pending: only the other letter; --all shows who, when and why
    assert [json.loads(x)["ref"] for x in runner.invoke(app, listing).stdout.splitlines()] == [
        second
    ]
    everything = runner.invoke(app, [*listing, "--all"]).stdout.splitlines()
    rows = {row["ref"]: row for row in map(json.loads, everything)}
    assert (rows[first]["state"], rows[first]["by"], rows[first]["why"]) == (
        "discarded",
        "ops-1",
        why,
    )
    assert rows[second]["state"] == "pending"

    # replaying the other resolves it too; durable: a fresh read of the compacted topic
    assert runner.invoke(app, ["dlq", "replay", second, "--by", "ops-2", *common]).exit_code == 0
    assert runner.invoke(app, listing).stdout.strip() == ""
    resolved = asyncio.run(read_resolutions(infra.bootstrap_servers, f"t{unique}."))
    assert {r: (x.action, x.by) for r, x in resolved.items()} == {
        first: ("discarded", "ops-1"),
        second: ("replayed", "ops-2"),
    }
    assert (
        asyncio.run(_cleanup_policy(infra.bootstrap_servers, resolutions_topic(f"t{unique}.")))
        == "compact"
    )


async def _cleanup_policy(bootstrap: str, topic: str) -> str:
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    admin = AIOKafkaAdminClient(**access_of(bootstrap).aiokafka())
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    [resource] = response.resources
    return next(str(entry[1]) for entry in resource[4] if entry[0] == "cleanup.policy")
