"""docker-compose.yml's structure; tests/compose/test_compose_up.py runs it on containers."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import yaml

from hnth_contracts.topics import PARTITIONS

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("registration", "scheduling", "notification", "inspection")


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _workspace_members() -> dict[str, Path]:
    """Each workspace package's name and its folder."""
    members = {}
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        for pyproject in ROOT.glob(f"{pattern}/pyproject.toml"):
            name = re.search(r'^name = "([^"]+)"', pyproject.read_text(), re.M)
            if name:
                members[name[1]] = pyproject.parent
    return members


def test_every_image_is_built_from_the_one_dockerfile_with_a_real_package_and_module() -> None:
    services = _compose()["services"]
    members = _workspace_members()
    for name in (*SERVICES, "console"):
        build = services[name]["build"]
        assert build["context"] == ".", name
        assert "dockerfile" not in build, name
        package = build["args"]["PACKAGE"]
        module = build["args"].get("MODULE", package)
        assert package in members, f"{name}: {package} is not a workspace package"
        assert (members[package] / "src" / module / "__main__.py").exists(), f"{name}: {module}"


def test_the_dockerfile_is_healthchecked_non_root_and_ships_policies_and_directories() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "HEALTHCHECK" in dockerfile
    assert "/readyz" in dockerfile
    assert re.search(r"^USER (?!root)", dockerfile, re.M), "must not run as root"
    copied = set(re.findall(r"^COPY (\S+) \1$", dockerfile, re.M))
    assert {"contracts", "kit", "services", "cli", "console", "policies", "data"} <= copied
    for folder in copied:
        assert (ROOT / folder).is_dir(), folder


def test_every_service_waits_for_healthy_kafka_and_mongo() -> None:
    services = _compose()["services"]
    for name in SERVICES:
        spec = services[name]
        assert spec["depends_on"]["kafka"]["condition"] == "service_healthy"
        assert spec["depends_on"]["mongo"]["condition"] == "service_healthy"
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


def test_each_process_is_provisioned_as_its_own_kafka_user_before_it_starts() -> None:
    """A one-shot job per process, in the process's own image, makes its user, ACLs and
    topics as the admin; the process waits for it and never holds the admin's password."""
    services = _compose()["services"]
    for name in (*SERVICES, "console"):
        spec, job = services[name], services[f"{name}-kafka"]
        assert spec["depends_on"][f"{name}-kafka"] == {
            "condition": "service_completed_successfully"
        }
        assert job["image"] == spec["image"], name
        assert "kafka-provision" in " ".join(job["command"])
        assert job["restart"] == "no"
        assert job["depends_on"]["kafka"]["condition"] == "service_healthy"
        own, job_env = spec["environment"], job["environment"]
        assert own["HNTH_KAFKA_USERNAME"] == job_env["HNTH_KAFKA_USERNAME"] == f"hnth-{name}"
        assert own["HNTH_KAFKA_PASSWORD"] == job_env["HNTH_KAFKA_PASSWORD"]
        assert f"HNTH_KAFKA_{name.upper()}_PASSWORD" in own["HNTH_KAFKA_PASSWORD"]
        assert "HNTH_KAFKA_ADMIN_PASSWORD" not in own, f"{name} holds the admin's password"
        assert job_env["HNTH_KAFKA_ADMIN_PASSWORD"] == "${HNTH_KAFKA_ADMIN_PASSWORD}"
        # over TLS, trusting the operator's CA
        assert own["HNTH_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert own["HNTH_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
        assert own["HNTH_KAFKA_SSL_CAFILE"] == "/run/secrets/kafka_ca"
        assert "kafka_ca" in spec["secrets"]
        assert "kafka_ca" in job["secrets"]
    assert PARTITIONS >= 6  # what the jobs create topics with: room for 6 replicas
    assert not any("HNTH_TOPIC_PARTITIONS" in str(s.get("environment")) for s in services.values())


def test_the_broker_takes_sasl_over_tls_with_the_operators_certificate() -> None:
    compose = _compose()
    kafka = compose["services"]["kafka"]
    script = ROOT / "infra/kafka/broker.sh"
    assert f"./{script.relative_to(ROOT)}:/etc/hnth/broker.sh:ro" in kafka["volumes"]
    assert kafka["entrypoint"] == ["/bin/bash", "/etc/hnth/broker.sh"]
    assert set(kafka["secrets"]) == {"kafka_tls_cert", "kafka_tls_key"}
    for secret in ("kafka_ca", "kafka_tls_cert", "kafka_tls_key"):
        assert compose["secrets"][secret]["file"].startswith("./secrets/kafka/")
    text = script.read_text()
    listeners = re.search(r"^listener.security.protocol.map=(.*)$", text, re.M)
    assert listeners is not None
    protocols = dict(pair.split(":") for pair in listeners[1].split(","))
    assert protocols["CLIENT"] == protocols["EXTERNAL"] == "SASL_SSL"
    # the broker's own listeners are on loopback: no other container reaches them
    assert re.search(r"BROKER://127\.0\.0\.1:\$broker_port,CONTROLLER://127\.0\.0\.1:", text)
    assert "allow.everyone.if.no.acl.found=false" in text
    assert re.search(r"^super.users=User:hnth-broker$", text, re.M)
    assert "ssl.keystore.type=PEM" in text


def test_prometheus_scrapes_every_replica_of_every_service() -> None:
    services = _compose()["services"]
    prometheus = services["prometheus"]
    mounted = {v.split(":")[0]: v.split(":")[1] for v in prometheus["volumes"] if ":" in v}
    assert mounted["./infra/prometheus/prometheus.yml"] == "/etc/prometheus/prometheus.yml"
    config = yaml.safe_load((ROOT / "infra/prometheus/prometheus.yml").read_text())
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    token_file = job["authorization"]["credentials_file"]  # /metrics needs a token
    [secret] = prometheus["secrets"]
    assert token_file == f"/run/secrets/{secret}"
    assert _compose()["secrets"][secret]["file"].startswith("./secrets/")
    [dns] = job["dns_sd_configs"]  # one address per replica, so scaling needs no edit
    assert dns["type"] == "A"
    assert set(dns["names"]) == set(SERVICES)
    assert dns["port"] == 8000 == int(services["scheduling"]["environment"]["HNTH_HTTP_PORT"])


def test_grafana_provisions_the_dashboard_from_the_repository() -> None:
    grafana = _compose()["services"]["grafana"]
    mounts = dict(v.split(":")[:2] for v in grafana["volumes"] if v.startswith("./"))
    provisioning = ROOT / "infra/grafana/provisioning"
    assert mounts["./infra/grafana/provisioning"] == "/etc/grafana/provisioning"
    [source] = yaml.safe_load((provisioning / "datasources/prometheus.yml").read_text())[
        "datasources"
    ]
    assert source["url"] == "http://prometheus:9090"
    [provider] = yaml.safe_load((provisioning / "dashboards/hnth.yml").read_text())["providers"]
    assert mounts["./infra/grafana/dashboards"] == provider["options"]["path"]
    dashboard = json.loads((ROOT / "infra/grafana/dashboards/hnth-ops.json").read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    for series in (
        "hnth_events_consumed_total",
        "hnth_events_produced_total",
        "hnth_handler_seconds_bucket",
        "hnth_consumer_lag",
        "hnth_outbox_backlog",
        "hnth_dead_letters_total",
        "hnth_notices_total",
        "hnth_timers_pending",
    ):
        assert series in exprs, series
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == source["uid"]


def test_console_reads_the_services_over_http_and_has_no_database() -> None:
    console = _compose()["services"]["console"]
    env = console["environment"]
    for name in ("registration", "notification", "inspection"):
        assert env[f"HNTH_{name.upper()}_URL"] == f"http://{name}:8000"
        assert console["depends_on"][name]["condition"] == "service_healthy"
    assert "HNTH_MONGODB_URL" not in env
    assert env["HNTH_HTTP_PORT"] == "8080"
    assert console["ports"] == ["${HNTH_CONSOLE_PORT:-8080}:8080"]


def test_only_registration_holds_the_signing_keys_and_the_others_read_its_jwks() -> None:
    services = _compose()["services"]
    jwks = "http://registration:8000/.well-known/jwks.json"
    for name in ("registration-kafka", "scheduling-kafka", "console-kafka"):  # sign nothing
        assert "signing_keys" not in services[name].get("secrets", []), name
    for name in ("scheduling", "notification", "inspection", "console", "console-kafka"):
        env = services[name]["environment"]
        assert env.get("HNTH_AUTH_JWKS_URL", jwks) == jwks, name  # the console verifies none
        assert not any("SIGNING" in key or key == "HNTH_AUTH_SECRET" for key in env), name
        assert "signing_keys" not in services[name].get("secrets", []), name
    registration = services["registration"]
    assert registration["environment"]["HNTH_SIGNING_KEYS_FILE"] == "/run/secrets/signing_keys"
    assert "signing_keys" in registration["secrets"]
    assert _compose()["secrets"]["signing_keys"]["file"].startswith("./secrets/")
