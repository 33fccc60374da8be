"""docker-compose.yml cannot run here (no Docker engine); check its structure instead."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("registration", "scheduling", "notification", "inspection")


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_service_waits_for_healthy_kafka_and_mongo_and_has_a_healthcheck() -> None:
    services = _compose()["services"]
    for name in SERVICES:
        spec = services[name]
        assert spec["depends_on"]["kafka"]["condition"] == "service_healthy"
        assert spec["depends_on"]["mongo"]["condition"] == "service_healthy"
        dockerfile = (ROOT / spec["build"]["dockerfile"]).read_text()
        assert "HEALTHCHECK" in dockerfile
        assert "/readyz" in dockerfile
        assert re.search(r"^USER (?!root)", dockerfile, re.M), f"{name} must not run as root"
    for infra in ("kafka", "mongo"):
        assert "healthcheck" in services[infra]


def test_each_service_has_its_own_database_and_user() -> None:
    services = _compose()["services"]
    for name in SERVICES:
        url = services[name]["environment"]["HNTH_MONGODB_URL"]
        assert f"{name}:${{MONGO_{name.upper()}_PASSWORD}}@" in url
        assert f"/hnth_{name}?" in url


def test_no_secret_literals_in_the_compose_file() -> None:
    compose = _compose()
    for name, spec in compose["services"].items():
        for key, value in (spec.get("environment") or {}).items():
            if re.search(r"SECRET|PASSWORD", key):
                assert str(value).startswith("${"), f"{name}.{key} must come from the environment"
    text = (ROOT / "docker-compose.yml").read_text()
    assert not re.search(r"(?i)(password|secret)\s*[:=]\s*[\"']?[A-Za-z0-9]{8,}", text)


def test_topics_have_partitions_for_six_replicas() -> None:
    command = " ".join(_compose()["services"]["topics"]["command"])
    partitions = int(re.search(r"--partitions (\d+)", command).group(1))
    assert partitions >= 6
    for topic in ("hnth.meetings", "hnth.slots", "hnth.checks", "hnth.reports", "hnth.directory"):
        assert topic in command
