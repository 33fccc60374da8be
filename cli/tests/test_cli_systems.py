"""`hnth system create|disable`: the operator's call to registration (signed with
registration's keys) and the JSON a system's administrator is given."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hnth_cli import main
from typer.testing import CliRunner

from hnth_kit.auth import Role
from hnth_kit.testing import read_token, write_test_keys

runner = CliRunner()
MADE = {
    "client_id": "sys-lang-son-e-office-ab12cd34",
    "client_secret": "bi-mat",
    "token_url": "http://registration/auth/token",
    "tenant": "lang-son",
    "name": "E-Office",
    "unit": "VP-UBND",
}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> list[dict[str, Any]]:
    """Registration's answers, and what the CLI sent it."""
    monkeypatch.setenv("HNTH_SIGNING_KEYS_FILE", str(write_test_keys(tmp_path)))
    seen: list[dict[str, Any]] = []

    def post(url: str, json: Any, headers: dict[str, str], timeout: float) -> httpx.Response:
        seen.append({"url": url, "json": json, "token": headers["Authorization"][7:]})
        disabled = url.endswith("/disable")
        body = {**MADE, "disabled": True} if disabled else MADE
        return httpx.Response(200 if disabled else 201, json=body)

    monkeypatch.setattr(main.httpx, "post", post)
    return seen


@pytest.fixture
def signed_in_kafka(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Kafka admin signs in with SCRAM (HNTH_KAFKA_*)."""
    for name, value in {
        "SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "USERNAME": "hnth-admin",
        "PASSWORD": "admin-secret",
    }.items():
        monkeypatch.setenv(f"HNTH_KAFKA_{name}", value)


def test_system_create_on_a_kafka_without_sign_in_registers_nothing(
    calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HNTH_KAFKA_SECURITY_PROTOCOL", raising=False)
    args = ["system", "create", "--tenant", "lang-son", "--name", "E-Office", "--unit", "VP-UBND"]
    where = ["--url", "http://registration", "--bootstrap", "kafka:9092"]
    result = runner.invoke(main.app, [*args, *where])
    assert result.exit_code != 0
    assert "has no sign-in (SASL)" in result.output
    assert "nothing was registered" in result.output
    assert calls == []  # registration was never asked: no secret made and lost


def test_system_create_prints_its_credentials_and_topic(
    calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, signed_in_kafka: None
) -> None:
    monkeypatch.setattr(
        main,
        "kafka_credentials",
        lambda admin, topics, tenant, client_id: {
            "username": client_id,
            "topic": topics.inbound(tenant),
            "bootstrap": admin.bootstrap,
        },
    )
    args = ["system", "create", "--tenant", "lang-son", "--name", "E-Office", "--unit", "VP-UBND"]
    where = ["--url", "http://registration", "--bootstrap", "kafka:9092"]
    result = runner.invoke(main.app, [*args, *where])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed == {
        **{k: MADE[k] for k in ("tenant", "name", "unit", "client_id", "client_secret")},
        "token_url": MADE["token_url"],
        "topic": "hnth.inbound.lang-son",
        "username": MADE["client_id"],
        "bootstrap": "kafka:9092",
    }
    (call,) = calls
    assert call["url"] == "http://registration/systems"
    assert call["json"] == {"name": "E-Office", "unit": "VP-UBND"}
    who = read_token(call["token"])
    assert (who.role, who.tenant) == (Role.OPERATOR, "lang-son")


def test_system_disable_calls_the_api_and_revokes_the_kafka_user(
    calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    revoked: list[tuple[str, str]] = []
    monkeypatch.setattr(
        main, "revoke_kafka_credentials", lambda admin, c: revoked.append((admin.bootstrap, c))
    )
    client_id = MADE["client_id"]
    where = ["--url", "http://registration", "--bootstrap", "kafka:9092"]
    result = runner.invoke(
        main.app, ["system", "disable", "--tenant", "lang-son", client_id, *where]
    )
    assert result.exit_code == 0, result.output
    assert calls[0]["url"] == f"http://registration/systems/{client_id}/disable"
    assert revoked == [("kafka:9092", client_id)]
