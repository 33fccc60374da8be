"""The native stack for machines without a Docker engine.

Apache Kafka (KRaft, combined broker+controller) runs from Maven Central jars and
FerretDB (SQLite handler) from a small Go module of ours; both on 127.0.0.1.
Builds are cached in `.cache/` (git-ignored); each running stack keeps its pids,
logs and data in its own run folder, so tests and `make up` never collide.

    python -m infra.stack up [--no-services]   # Kafka, FerretDB, SMTP sink, SMPP server, services
    python -m infra.stack status
    python -m infra.stack down
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from hnth_kit.auth import SigningKeys
from hnth_kit.dlq import ensure_resolutions_topic
from hnth_kit.kafka_access import KafkaAccess
from hnth_kit.kafka_accounts import (
    ADMIN,
    ADMIN_USER,
    Grants,
    KafkaAccounts,
    console_grants,
    provision,
)
from hnth_kit.ports import free_port

ROOT = Path(__file__).resolve().parents[3]
"""The checkout: the stack builds from `infra/` and keeps its cache in `.cache/`."""
INFRA = ROOT / "infra"
CACHE = Path(os.environ.get("HNTH_CACHE_DIR", ROOT / ".cache"))
DEFAULT_RUN_DIR = ROOT / ".run" / "stack"

SERVICES = {"registration": 8001, "scheduling": 8002, "notification": 8003, "inspection": 8004}
CONSOLE_PORT = 8080


class StackError(RuntimeError):
    """A launcher failure with a message a person can act on."""


@dataclass
class StackState:
    run_dir: str
    kafka_port: int
    controller_port: int
    mongo_port: int
    smtp_port: int = 0
    pids: dict[str, int] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    smpp_env: dict[str, str] = field(default_factory=dict)
    """Notification's settings for the SMPP server of `up` (empty: SMS off)."""
    sasl: bool = False
    """Kafka authenticates (SCRAM-SHA-512) and authorizes (ACLs) every client."""

    def kafka_user(self, name: str) -> KafkaAccess:
        """The broker, signed in as `name` (its password from the run folder)."""
        if not self.sasl:
            return KafkaAccess(self.bootstrap_servers)
        password = (Path(self.run_dir) / "kafka-users" / name).read_text(encoding="utf-8")
        return KafkaAccess(
            self.bootstrap_servers, "SASL_PLAINTEXT", "SCRAM-SHA-512", name, password
        )

    @property
    def kafka_admin(self) -> KafkaAccess:
        """The admin principal: creates topics, users and ACLs (not a super-user)."""
        return self.kafka_user(KAFKA_ADMIN)

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def mongodb_url(self) -> str:
        return f"mongodb://127.0.0.1:{self.mongo_port}/"


# ---------------------------------------------------------------- building


def _require(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise StackError(f"{tool} not found on PATH: {hint}")
    return path


def _run_build(cmd: list[str], cwd: Path, what: str) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
        raise StackError(
            f"{what} failed (exit {proc.returncode}); is the package registry reachable?\n{tail}"
        )


def kafka_libs() -> Path:
    """Fetch the pinned Kafka jars once (infra/kafka/pom.xml) and return their folder."""
    libs = CACHE / "kafka-libs"
    stamp = libs / ".pom-stamp"
    pom = (INFRA / "kafka" / "pom.xml").read_text()
    if stamp.exists() and stamp.read_text() == pom:
        return libs
    _require("java", "install a Java 17+ runtime (apt-get install openjdk-17-jre-headless)")
    mvn = _require("mvn", "install Apache Maven (apt-get install maven)")
    shutil.rmtree(libs, ignore_errors=True)
    print("stack: fetching Kafka jars from Maven Central (first run only)...", flush=True)
    _run_build(
        [mvn, "-q", "-B", "dependency:copy-dependencies", f"-DoutputDirectory={libs}"],
        INFRA / "kafka",
        "fetching Kafka jars with Maven",
    )
    stamp.write_text(pom)
    return libs


FERRETDB_MODULE = "github.com/FerretDB/FerretDB"


def ferretdb_binary() -> Path:
    """Build our FerretDB wrapper (infra/ferretdb) once and return the binary.

    FerretDB's module is patched before the build (`infra/ferretdb/*.patch`):
    - `id-index.patch`: v1.24 creates its unique `_id` index on one spelling of the JSON
      path and queries another, so SQLite scanned the whole table for every lookup by
      `_id`. MongoDB, which production runs, always uses its `_id` index; the patch makes
      FerretDB do the same.
    - `no-leak-tracking.patch`: FerretDB's leak check for its own tests, a stack trace per
      cursor, took 7% of its CPU in a release build (a CPU profile of the e2e bench).
    """
    binary = CACHE / "bin" / "hnth-ferretdb"
    src = INFRA / "ferretdb"
    stamp = CACHE / "bin" / ".ferretdb-stamp"
    patches = sorted(src.glob("*.patch"))
    names = ("go.mod", "go.sum", "main.go", *(p.name for p in patches))
    source_id = "".join((src / name).read_text() for name in names)
    if binary.exists() and stamp.exists() and stamp.read_text() == source_id:
        return binary
    go = _require("go", "install Go 1.24+ (https://go.dev/doc/install or apt-get install golang)")
    patch = _require("patch", "apt-get install patch")
    binary.parent.mkdir(parents=True, exist_ok=True)
    print("stack: building FerretDB from the Go module proxy (first run only)...", flush=True)
    build = CACHE / "build" / "ferretdb"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    for name in ("go.mod", "go.sum", "main.go"):
        shutil.copy(src / name, build / name)
    _run_build([go, "mod", "download", FERRETDB_MODULE], build, "downloading FerretDB")
    listed = subprocess.run(
        [go, "list", "-m", "-f", "{{.Dir}}", FERRETDB_MODULE],
        cwd=build,
        capture_output=True,
        text=True,
        check=True,
    )
    module = build / "module"
    shutil.copytree(listed.stdout.strip(), module)  # the module cache is read-only
    for path in module.rglob("*"):
        path.chmod(path.stat().st_mode | 0o200)
    for each in patches:
        _run_build([patch, "-p1", "--forward", "-i", str(each)], module, "patching FerretDB")
    _run_build(
        [go, "mod", "edit", f"-replace={FERRETDB_MODULE}=./module"], build, "patching FerretDB"
    )
    _run_build([go, "build", "-o", str(binary), "."], build, "building FerretDB")
    stamp.write_text(source_id)
    return binary


OIDC_MODULE = "github.com/zitadel/oidc/v3"
SMPP_MODULE = "github.com/fiorix/go-smpp"


def _go_binary(name: str, module: str, what: str) -> Path:
    """Build our small Go program `infra/<name>` (on `module`) into `.cache/bin/hnth-<name>`
    once; the version is pinned in its go.mod and the binary is rebuilt only when its
    files change, like FerretDB's."""
    binary = CACHE / "bin" / f"hnth-{name}"
    src = INFRA / name
    stamp = CACHE / "bin" / f".{name}-stamp"
    names = ("go.mod", "go.sum", "main.go")
    source_id = "".join((src / n).read_text() for n in names)
    if binary.exists() and stamp.exists() and stamp.read_text() == source_id:
        return binary
    go = _require("go", "install Go 1.26+ (https://go.dev/doc/install or apt-get install golang)")
    binary.parent.mkdir(parents=True, exist_ok=True)
    print(f"stack: building {what} from the Go module proxy (first run only)...", flush=True)
    build = CACHE / "build" / name
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    for n in names:
        shutil.copy(src / n, build / n)
    _run_build([go, "mod", "download", module], build, f"downloading {module}")
    _run_build([go, "build", "-o", str(binary), "."], build, f"building {what}")
    stamp.write_text(source_id)
    return binary


def oidc_binary() -> Path:
    """Our OpenID provider (infra/oidc: zitadel/oidc's example server)."""
    return _go_binary("oidc", OIDC_MODULE, "the OpenID provider")


def smpp_binary() -> Path:
    """Our SMPP server (infra/smpp: go-smpp's smpptest server recording what it receives)."""
    return _go_binary("smpp", SMPP_MODULE, "the SMPP server")


# ---------------------------------------------------------------- processes


def _check_port_free(port: int, what: str) -> None:
    with socket.socket() as s:
        s.setsockopt(
            socket.SOL_SOCKET, socket.SO_REUSEADDR, 1
        )  # as servers bind: TIME_WAIT is fine
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            raise StackError(
                f"port {port} for {what} is taken ({exc.strerror}); "
                f"stop what uses it or choose another port"
            ) from None


def _spawn(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=ROOT,
            start_new_session=True,  # its own process group: `down` kills the whole tree
        )
    return proc.pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as dead
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def stop_pid(pid: int, timeout: float = 15.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.1)


def _log_tail(log: Path, lines: int = 30) -> str:
    if not log.exists():
        return "(no log)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _wait_until(check: Callable[[], bool], what: str, pid: int, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            raise StackError(f"{what} exited during start-up; log {log}:\n{_log_tail(log)}")
        try:
            if check():
                return
        except Exception:  # noqa: BLE001, S110 - not up yet; keep polling
            pass
        time.sleep(0.3)
    raise StackError(f"{what} did not answer within {timeout:.0f}s; log {log}:\n{_log_tail(log)}")


def _kafka_answers(kafka: KafkaAccess) -> bool:
    import logging

    from aiokafka.admin import AIOKafkaAdminClient

    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # refusals while it boots are expected

    async def probe() -> bool:
        admin = AIOKafkaAdminClient(**kafka.aiokafka(), request_timeout_ms=3000)
        await admin.start()
        try:
            await admin.list_topics()  # a real metadata request
            return True
        finally:
            await admin.close()

    return asyncio.run(probe())


def _mongo_answers(url: str) -> bool:
    from pymongo import MongoClient

    client: MongoClient[dict[str, object]] = MongoClient(url, serverSelectionTimeoutMS=2000)
    try:
        client.admin.command("ping")
        return True
    finally:
        client.close()


def _http_answers(url: str) -> bool:
    import urllib.request

    with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback only
        return bool(resp.status == 200)


KAFKA_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{kafka_port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{kafka_port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={data}
num.partitions=6
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
"""

KAFKA_SASL_PROPERTIES = """\
listeners=SASL_PLAINTEXT://127.0.0.1:{kafka_port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=SASL_PLAINTEXT://127.0.0.1:{kafka_port}
inter.broker.listener.name=SASL_PLAINTEXT
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=\
org.apache.kafka.common.security.scram.ScramLoginModule required \
username="{broker}" password="{broker_password}";
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=\
org.apache.kafka.common.security.plain.PlainLoginModule required \
username="{broker}" password="{controller_password}" user_{broker}="{controller_password}";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:{broker}
"""
"""SCRAM for clients and between the broker's own parts; PLAIN on the controller listener
(KRaft reads SCRAM users from the metadata log, which the controller serves, so its own
listener cannot use them). Only the broker itself is a super-user: it is the one
principal Kafka's inter-broker and controller traffic runs as."""

KAFKA_ADMIN = ADMIN_USER
KAFKA_BROKER = "hnth-broker"

LOG4J2 = """\
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = out
logger.kafka.name = kafka.server.KafkaServer
logger.kafka.level = INFO
"""


def _java_cmd(libs: Path, main: str, *args: str, heap: str = "768m") -> list[str]:
    return [
        "java",
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={libs.parent / 'log4j2.properties'}",
        "-cp",
        f"{libs}/*",
        main,
        *args,
    ]


def start_kafka(state: StackState, timeout: float = 90.0) -> None:
    libs = kafka_libs()
    (libs.parent / "log4j2.properties").write_text(LOG4J2)
    run = Path(state.run_dir)
    data = run / "kafka-data"
    props = run / "kafka.properties"
    ports = {"kafka_port": state.kafka_port, "controller_port": state.controller_port}
    properties = KAFKA_PROPERTIES.format(**ports, data=data)
    users = _kafka_passwords(run) if state.sasl else {}
    if state.sasl:
        properties = "\n".join(
            line for line in properties.splitlines() if not line.startswith(SASL_OVERRIDES)
        )
        properties += "\n" + KAFKA_SASL_PROPERTIES.format(
            **ports,
            broker=KAFKA_BROKER,
            broker_password=users[KAFKA_BROKER],
            controller_password=users["controller"],
        )
    props.write_text(properties)
    if not (data / "meta.properties").exists():
        scram = [
            f"--add-scram=SCRAM-SHA-512=[name={name},password={users[name]}]"
            for name in (KAFKA_BROKER, KAFKA_ADMIN)
            if state.sasl
        ]
        fmt = _java_cmd(
            libs,
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "-t",
            str(uuid.uuid4()).replace("-", "")[:22],
            "-c",
            str(props),
            *scram,
            heap="256m",
        )
        _run_build(fmt, run, "formatting Kafka storage")
    log = run / "kafka.log"
    pid = _spawn(_java_cmd(libs, "kafka.Kafka", str(props)), log)
    state.pids["kafka"] = pid
    broker = state.kafka_user(KAFKA_BROKER)
    _wait_until(lambda: _kafka_answers(broker), "Kafka", pid, log, timeout)
    if state.sasl:  # the admin's rights come from ACLs the broker (the super-user) grants
        KafkaAccounts(broker).grant(KAFKA_ADMIN, ADMIN)


SASL_OVERRIDES = ("listeners=", "advertised.listeners=", "inter.broker.", "listener.security")


def _kafka_passwords(run: Path) -> dict[str, str]:
    """The broker's, the controller listener's and the admin's passwords, made once per
    run folder (files readable by this user only)."""
    folder = run / "kafka-users"
    folder.mkdir(exist_ok=True)
    return {
        name: _secret_file(folder / name, secrets.token_urlsafe(24)).read_text(encoding="utf-8")
        for name in (KAFKA_BROKER, "controller", KAFKA_ADMIN)
    }


def spawn_ferretdb(
    port: int, data: Path, log: Path, sqlite_query: str = "", timeout: float = 30.0
) -> int:
    """A FerretDB on 127.0.0.1:`port` keeping its SQLite files in `data`, answering
    before this returns; its pid. `sqlite_query` is FerretDB's `-sqlite-query` (pragmas)."""
    cmd = [str(ferretdb_binary()), "-listen", f"127.0.0.1:{port}", "-data", str(data)]
    if sqlite_query:
        cmd += ["-sqlite-query", sqlite_query]
    pid = _spawn(cmd, log)
    url = f"mongodb://127.0.0.1:{port}/"
    _wait_until(lambda: _mongo_answers(url), "FerretDB", pid, log, timeout)
    return pid


FERRETDB_SQLITE_QUERY = "_pragma=synchronous(normal)"
"""SQLite as durable as production's standalone `mongod` (compose), not more: with its
write-ahead log, `normal` loses nothing when a process dies (the kill -9 and restart
drills) and may lose the last commits when the machine loses power, as `mongod`'s
default write concern does (its journal is flushed every 100 ms). SQLite's default,
`full`, syncs the log to disk at every commit, and FerretDB commits each insert command
and each update on its own: an update in a sender's group of 24 took 367-458 µs of its
CPU against 250-300 now, a single insert 300-350 against 242-275
(`bench/ferretdb_growth_bench.py --query "_pragma=synchronous(normal)"`)."""


def start_ferretdb(state: StackState, timeout: float = 30.0) -> None:
    run = Path(state.run_dir)
    log = run / "ferretdb.log"
    state.pids["ferretdb"] = spawn_ferretdb(
        state.mongo_port, run / "mongo-data", log, FERRETDB_SQLITE_QUERY, timeout=timeout
    )


@dataclass(frozen=True)
class OidcUser:
    """A person the test OpenID provider knows (the `sub` claim is `id`)."""

    id: str
    username: str
    password: str
    email: str
    first_name: str = ""
    last_name: str = ""


@dataclass
class OidcProvider:
    """A running OpenID provider (zitadel/oidc) with one confidential client."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    users: tuple[OidcUser, ...]
    pid: int
    log: Path

    def stop(self) -> None:
        stop_pid(self.pid)


def start_oidc_provider(
    run_dir: Path,
    users: list[OidcUser],
    redirect_uris: list[str],
    *,
    client_id: str = "hnth-ops",
    port: int | None = None,
    timeout: float = 30.0,
) -> OidcProvider:
    """Start the OpenID provider on 127.0.0.1 (a free port unless given); the client
    secret is generated here and handed to it through the environment."""
    binary = oidc_binary()
    run_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    _check_port_free(port, "the OpenID provider")
    users_file = run_dir / "oidc-users.json"
    users_file.write_text(
        json.dumps(
            {
                u.id: {
                    "ID": u.id,
                    "Username": u.username,
                    "Password": u.password,
                    "Email": u.email,
                    "EmailVerified": True,
                    "FirstName": u.first_name,
                    "LastName": u.last_name,
                    "PreferredLanguage": "vi",
                }
                for u in users
            }
        )
    )
    users_file.chmod(0o600)
    secret = secrets.token_urlsafe(32)
    listen = f"127.0.0.1:{port}"
    cmd = [
        str(binary), "-listen", listen, "-users", str(users_file),
        "-client-id", client_id, "-redirect-uris", ",".join(redirect_uris),
    ]  # fmt: skip
    log = run_dir / "oidc.log"
    pid = _spawn(cmd, log, env={"HNTH_OIDC_CLIENT_SECRET": secret})
    issuer = f"http://{listen}/"
    provider = OidcProvider(issuer, client_id, secret, tuple(redirect_uris), tuple(users), pid, log)
    try:
        _wait_until(
            lambda: _http_answers(issuer + ".well-known/openid-configuration"),
            "the OpenID provider",
            pid,
            log,
            timeout,
        )
    except BaseException:
        provider.stop()
        raise
    return provider


@dataclass
class SmppServer:
    """A running SMPP server (infra/smpp): SMPP on `host:port`, what it received as JSON
    at `web_url + "/messages"`."""

    host: str
    port: int
    system_id: str
    password: str
    web_url: str
    pid: int
    log: Path

    def messages(self) -> list[dict[str, object]]:
        """Every submit_sm received so far, oldest first."""
        found: list[dict[str, object]] = httpx.get(f"{self.web_url}/messages", timeout=10).json()
        return found

    def env(self) -> dict[str, str]:
        """The notification service's settings that send SMS through this server."""
        return {
            "HNTH_SMPP_HOST": self.host,
            "HNTH_SMPP_PORT": str(self.port),
            "HNTH_SMPP_SYSTEM_ID": self.system_id,
            "HNTH_SMPP_PASSWORD": self.password,
        }

    def stop(self) -> None:
        stop_pid(self.pid)


def start_smpp_server(
    run_dir: Path, *, web_port: int | None = None, timeout: float = 30.0
) -> SmppServer:
    """Start the SMPP server on 127.0.0.1 (it picks its SMPP port; the JSON record on
    `web_port`, a free one unless given) with a generated password."""
    binary = smpp_binary()
    run_dir.mkdir(parents=True, exist_ok=True)
    web_port = web_port or free_port()
    _check_port_free(web_port, "the SMPP server's record")
    web_url = f"http://127.0.0.1:{web_port}"
    password = secrets.token_hex(4)  # SMPP 3.4 passwords are at most 8 characters
    log = run_dir / f"smpp-{web_port}.log"
    cmd = [str(binary), "-http", f"127.0.0.1:{web_port}", "-system-id", "hnth-ops"]
    pid = _spawn(cmd, log, env={"HNTH_SMPP_PASSWORD": password})
    try:
        _wait_until(lambda: _http_answers(web_url + "/"), "the SMPP server", pid, log, timeout)
        address = httpx.get(web_url + "/", timeout=10).json()["smpp"]
    except BaseException:
        stop_pid(pid)
        raise
    host, _, port = str(address).rpartition(":")
    return SmppServer(host, int(port), "hnth-ops", password, web_url, pid, log)


def start_smtp_sink(state: StackState, timeout: float = 20.0) -> None:
    run = Path(state.run_dir)
    log = run / "smtp-sink.log"
    web_port = int(os.environ.get("HNTH_SMTP_WEB_PORT", "8025"))
    cmd = [
        sys.executable, "-m", "infra.smtp_sink",
        "--port", str(state.smtp_port), "--web-port", str(web_port), "--dir", str(run / "mail"),
    ]  # fmt: skip
    pid = _spawn(cmd, log)
    state.pids["smtp-sink"] = pid
    _wait_until(
        lambda: _http_answers(f"http://127.0.0.1:{web_port}/"), "SMTP sink", pid, log, timeout
    )
    state.urls["smtp-sink"] = f"http://127.0.0.1:{web_port}/ (SMTP on 127.0.0.1:{state.smtp_port})"


def start_smpp(state: StackState) -> None:
    """The SMPP server for `make up`: notification sends its SMS there (record on
    HNTH_SMPP_WEB_PORT, 2776 unless set)."""
    web_port = int(os.environ.get("HNTH_SMPP_WEB_PORT", "2776"))
    server = start_smpp_server(Path(state.run_dir), web_port=web_port)
    state.pids["smpp"] = server.pid
    state.smpp_env = server.env()
    state.urls["smpp"] = f"{server.web_url}/messages (SMPP on {server.host}:{server.port})"


def signing_keys_file(run_dir: Path) -> Path:
    """Registration's signing keys for this stack (made once by `service_env`)."""
    return run_dir / "signing-keys.json"


def _secret_file(path: Path, content: str) -> Path:
    if not path.exists():
        path.write_text(content, encoding="utf-8")
        path.chmod(0o600)
    return path


def service_env(state: StackState, registration_url: str) -> dict[str, dict[str, str]]:
    """Each service's settings: the shared ones, plus what only that service holds
    (registration its signing keys, notification its link key)."""
    run = Path(state.run_dir)
    keys = _secret_file(signing_keys_file(run), json.dumps(SigningKeys.generate().private()))
    link = _secret_file(run / "link-secret", secrets.token_urlsafe(32))
    shared = {
        "HNTH_KAFKA_BOOTSTRAP_SERVERS": state.bootstrap_servers,
        "HNTH_MONGODB_URL": state.mongodb_url,
        "HNTH_SMTP_HOST": "127.0.0.1",
        "HNTH_SMTP_PORT": str(state.smtp_port),
        "HNTH_AUTH_JWKS_URL": f"{registration_url}/.well-known/jwks.json",
        "HNTH_POLICY_DIR": str(ROOT / "policies"),
    }
    session = _secret_file(run / "console-session-secret", secrets.token_urlsafe(32))
    own = {
        "registration": {"HNTH_SIGNING_KEYS_FILE": str(keys)},
        "notification": {"HNTH_LINK_SECRET": link.read_text(encoding="utf-8"), **state.smpp_env},
        "console": {"HNTH_CONSOLE_SESSION_SECRET": session.read_text(encoding="utf-8")},
    }
    return {name: {**shared, **own.get(name, {})} for name in [*SERVICES, "console"]}


def start_services(state: StackState, timeout: float = 60.0) -> None:
    run = Path(state.run_dir)
    port_of = {
        name: int(os.environ.get(f"HNTH_{name.upper()}_PORT", default_port))
        for name, default_port in SERVICES.items()
    }
    envs = service_env(state, f"http://127.0.0.1:{port_of['registration']}")
    if state.sasl:
        for name in SERVICES:
            envs[name] |= sign_in_as_itself(state, name, envs[name])
    started = []
    for name in SERVICES:
        port = port_of[name]
        _check_port_free(port, name)
        log = run / f"{name}.log"
        env = {**envs[name], "HNTH_HTTP_PORT": str(port)}
        pid = _spawn([sys.executable, "-m", name], log, env)
        state.pids[name] = pid
        started.append((name, port, pid, log))
    # the operator console reads the services over HTTP, as a person's browser would
    ports = {name: port for name, port, _, _ in started}
    console_port = int(os.environ.get("HNTH_CONSOLE_PORT", CONSOLE_PORT))
    _check_port_free(console_port, "console")
    console_env = {
        **envs["console"],
        "HNTH_HTTP_PORT": str(console_port),
        **{f"HNTH_{n.upper()}_URL": f"http://127.0.0.1:{p}" for n, p in ports.items()},
    }
    if state.sasl:  # its dead-letter page lists every `.dlq` topic and replays to any topic
        asyncio.run(ensure_resolutions_topic(state.kafka_admin))
        console_env |= kafka_user(state, "hnth-console", console_grants())
    log = run / "console.log"
    pid = _spawn([sys.executable, "-m", "hnth_console"], log, console_env)
    state.pids["console"] = pid
    started.append(("console", console_port, pid, log))
    for name, port, pid, log in started:
        url = f"http://127.0.0.1:{port}"
        _wait_until(lambda u=url: _http_answers(f"{u}/readyz"), name, pid, log, timeout)  # type: ignore[misc]
        state.urls[name] = f"{url}/docs" if name != "console" else f"{url}/"


def sign_in_as_itself(state: StackState, name: str, env: dict[str, str]) -> dict[str, str]:
    """Make the service's own Kafka user, grant it what the service declares, create
    those topics as the admin, and return the settings that sign the service in."""
    return kafka_user(state, f"hnth-{name}", declared_grants(name, env))


def declared_grants(name: str, env: dict[str, str]) -> Grants:
    """What `python -m <service> kafka-grants` says the service needs, with `env`."""
    declared = subprocess.run(
        [sys.executable, "-m", name, "kafka-grants"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if declared.returncode != 0:
        raise StackError(f"{name} kafka-grants failed:\n{declared.stderr[-2000:]}")
    return Grants.from_json(declared.stdout)


def kafka_user(state: StackState, user: str, grants: Grants) -> dict[str, str]:
    """The user (its password made once per run folder) with `grants`, their topics
    created by the admin; returns the `HNTH_KAFKA_*` settings that sign in as it."""
    password = _secret_file(
        Path(state.run_dir) / "kafka-users" / user, secrets.token_urlsafe(24)
    ).read_text(encoding="utf-8")
    return asyncio.run(provision(state.kafka_admin, user, password, grants)).environment()


# ---------------------------------------------------------------- the stack


def _state_file(run_dir: Path) -> Path:
    return run_dir / "stack.json"


def load_state(run_dir: Path) -> StackState | None:
    path = _state_file(run_dir)
    if not path.exists():
        return None
    return StackState(**json.loads(path.read_text()))


def save_state(state: StackState) -> None:
    _state_file(Path(state.run_dir)).write_text(json.dumps(asdict(state), indent=2))


def up(
    run_dir: Path = DEFAULT_RUN_DIR,
    *,
    kafka_port: int | None = None,
    mongo_port: int | None = None,
    services: bool = False,
    fresh: bool = False,
    sasl: bool = False,
) -> StackState:
    """Start Kafka and FerretDB (and optionally the SMTP sink and the four services).

    Ports left as None are picked free. Returns the state with pids and addresses;
    on any failure, whatever was started is stopped again before the error propagates.
    """
    existing = load_state(run_dir)
    if existing and any(_alive(p) for p in existing.pids.values()):
        raise StackError(f"a stack already runs from {run_dir}; run `down` first")
    if fresh:
        shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    state = StackState(
        run_dir=str(run_dir),
        kafka_port=kafka_port or free_port(),
        controller_port=free_port(),
        mongo_port=mongo_port or free_port(),
        smtp_port=int(os.environ.get("HNTH_SMTP_PORT", "1025")) if services else 0,
        sasl=sasl,
    )
    _check_port_free(state.kafka_port, "Kafka")
    _check_port_free(state.mongo_port, "FerretDB")
    # build both before starting either, so a build error leaves nothing running
    kafka_libs()
    ferretdb_binary()
    try:
        start_ferretdb(state)
        save_state(state)
        start_kafka(state)
        save_state(state)
        if services:
            _check_port_free(state.smtp_port, "SMTP sink")
            start_smtp_sink(state)
            start_smpp(state)
            save_state(state)
            start_services(state)
    except BaseException:
        save_state(state)
        down(run_dir)
        raise
    state.urls["kafka"] = state.bootstrap_servers
    state.urls["mongodb"] = state.mongodb_url
    save_state(state)
    return state


def down(run_dir: Path = DEFAULT_RUN_DIR) -> list[str]:
    """Stop every process this run folder started, services first, Kafka and FerretDB last."""
    state = load_state(run_dir)
    if state is None:
        return []
    stopped = []
    for name, pid in reversed(list(state.pids.items())):
        if _alive(pid):
            stop_pid(pid)
            stopped.append(name)
    state.pids = {}
    save_state(state)
    return stopped


def stop_component(state: StackState, name: str) -> None:
    """Stop one component (`kafka`, `ferretdb`) of a running stack: failure drills."""
    stop_pid(state.pids.pop(name))
    save_state(state)


def start_component(state: StackState, name: str) -> None:
    """Start a stopped component again on the same ports and data."""
    {"kafka": start_kafka, "ferretdb": start_ferretdb}[name](state)
    save_state(state)


DEMO_ACCOUNTS = "demo-accounts.json"


def demo_operators(state: StackState) -> dict[str, tuple[str, str]]:
    """One operator account per shipped province (`admin.<tenant>`), created through
    registration's API with a generated password, kept in the run folder (0600) so a
    second `up` prints the same: tenant -> (username, password)."""
    import urllib.error
    import urllib.request

    from hnth_kit.auth import Role, issue_token

    run = Path(state.run_dir)
    kept = run / DEMO_ACCOUNTS
    known: dict[str, list[str]] = json.loads(kept.read_text()) if kept.exists() else {}
    port = int(os.environ.get("HNTH_REGISTRATION_PORT", SERVICES["registration"]))
    base = f"http://127.0.0.1:{port}"
    keys = SigningKeys.load(signing_keys_file(run))
    made: dict[str, tuple[str, str]] = {}
    for tenant in sorted(p.stem for p in (ROOT / "policies").glob("*.yaml")):
        username, password = known.get(tenant) or (f"admin.{tenant}", secrets.token_urlsafe(15))
        token = issue_token(keys, role=Role.OPERATOR, tenant=tenant, subject="hnth-stack")
        body = {"username": username, "display_name": "Quản trị mẫu", "role": "operator"}
        request = urllib.request.Request(  # noqa: S310 - loopback only
            f"{base}/accounts",
            data=json.dumps(body | {"password": password}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            urllib.request.urlopen(request, timeout=10).close()  # noqa: S310 - loopback only
        except urllib.error.HTTPError as exc:
            if exc.code != 409 or tenant not in known:
                raise StackError(
                    f"demo operator for {tenant}: {exc.code} {exc.read()[:200]!r}"
                ) from None
        made[tenant] = (username, password)
    kept.write_text(json.dumps(made, indent=2))
    kept.chmod(0o600)
    return made


def status(run_dir: Path = DEFAULT_RUN_DIR) -> dict[str, str]:
    state = load_state(run_dir)
    if state is None:
        return {}
    rows = {}
    for name, pid in state.pids.items():
        running = "running" if _alive(pid) else "stopped"
        rows[name] = f"{running} pid={pid} {state.urls.get(name, '')}".strip()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.stack", description=__doc__.splitlines()[0]
    )
    parser.add_argument("command", choices=["up", "down", "status", "build"])
    parser.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIR)
    parser.add_argument(
        "--kafka-port", type=int, default=int(os.environ.get("HNTH_KAFKA_PORT", "9092"))
    )
    parser.add_argument(
        "--mongo-port", type=int, default=int(os.environ.get("HNTH_MONGO_PORT", "27017"))
    )
    parser.add_argument("--no-services", action="store_true", help="only Kafka and FerretDB")
    parser.add_argument("--fresh", action="store_true", help="discard the run folder's data first")
    parser.add_argument(
        "--sasl", action="store_true", help="Kafka with SCRAM-SHA-512 sign-in and ACLs"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            print(f"kafka jars: {kafka_libs()}\nferretdb: {ferretdb_binary()}")
            print(f"openid provider: {oidc_binary()}")
            print(f"smpp server: {smpp_binary()}")
        elif args.command == "up":
            started = time.monotonic()
            state = up(
                args.run_dir,
                kafka_port=args.kafka_port,
                mongo_port=args.mongo_port,
                services=not args.no_services,
                fresh=args.fresh,
                sasl=args.sasl,
            )
            print(f"HNTH Ops is up in {time.monotonic() - started:.0f}s:")
            for name, url in state.urls.items():
                print(f"  {name:<13} {url}")
            print(f"  logs          {state.run_dir}/*.log")
            if not args.no_services:
                print("demo operators (đăng nhập / sign in):")
                for tenant, (username, password) in demo_operators(state).items():
                    print(f"  {tenant:<16} {username:<24} {password}")
        elif args.command == "down":
            stopped = down(args.run_dir)
            print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        else:
            rows = status(args.run_dir)
            for name, row in rows.items():
                print(f"{name:<13} {row}")
            if not rows:
                print("nothing started from " + str(args.run_dir))
    except StackError as exc:
        print(f"stack: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
