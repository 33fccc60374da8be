"""Test infrastructure: a real Kafka broker and a real MongoDB-compatible server.

In order of preference: `KAFKA_BOOTSTRAP_SERVERS` / `MONGODB_URL` from the environment;
testcontainers when a Docker engine answers; else the native stack (infra/stack.py),
started once per session in a temporary folder and stopped at the end. An infra
failure fails the tests, it never skips them.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import pytest
import time_machine

from hnth_kit.kafka_access import KafkaAccess, from_environment
from hnth_kit.settings import REPO_ROOT

# services built in-process by tests read their rules from the checkout's policies
os.environ.setdefault("HNTH_POLICY_DIR", str(REPO_ROOT / "policies"))

if TYPE_CHECKING:
    from pymongo.asynchronous.database import AsyncDatabase

    from hnth_kit.mongo import Document
    from infra.stack import OidcProvider


@dataclass(frozen=True)
class Infra:
    bootstrap_servers: str
    mongodb_url: str
    kind: str

    @property
    def kafka(self) -> KafkaAccess:
        """The broker as the tests' own clients use it: the admin principal when the bus
        authenticates (the native stack), as the environment says."""
        return from_environment(self.bootstrap_servers)


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:  # noqa: BLE001 - no engine, no socket, no client: all mean "no"
        return False


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    if os.environ.get("HNTH_UNIT_ONLY"):
        pytest.fail("`make unit` runs without Kafka and MongoDB: this test needs them", False)
    kafka, mongo = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("MONGODB_URL")
    if kafka and mongo:
        yield Infra(kafka, mongo, "environment")
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.mongodb import MongoDbContainer

        with KafkaContainer().with_kraft() as k, MongoDbContainer("mongo:7") as m:
            yield Infra(k.get_bootstrap_server(), m.get_connection_url(), "testcontainers")
        return
    from infra import stack

    run_dir = tmp_path_factory.mktemp("native-stack")
    try:
        state = stack.up(run_dir, services=False, sasl=True)
    except stack.StackError as exc:
        pytest.fail(f"cannot start the native Kafka + FerretDB stack: {exc}", pytrace=False)
    # every client of the run signs in: the tests' own and in-process services as the
    # admin, the platforms' service processes as users of their own (tests/conftest.py)
    signed_in = state.kafka_admin.environment()
    del signed_in["HNTH_KAFKA_BOOTSTRAP_SERVERS"]
    os.environ.update(signed_in)
    try:
        yield Infra(state.bootstrap_servers, state.mongodb_url, "native")
    finally:
        stack.down(run_dir)


# Tests make hundreds of topics; the broker's open files grow with partitions (its limit
# here is 20,000), so tests use 4 per topic (enough for 3 replicas) and delete their own.
os.environ.setdefault("HNTH_TOPIC_PARTITIONS", "4")


@pytest.fixture
def unique(request: pytest.FixtureRequest) -> Iterator[str]:
    """A short id for this test's topics and databases, so tests never see each other's data.
    The test's topics (`t<id>.`) are deleted when it ends."""
    value = uuid.uuid4().hex[:10]
    yield value
    if "infra" in request.fixturenames:
        from hnth_kit.topics_admin import delete_topics

        infra = request.getfixturevalue("infra")
        asyncio.run(delete_topics(infra.kafka, f"t{value}."))


@pytest.fixture
async def database(infra) -> AsyncIterator[Callable[[str], AsyncDatabase[Document]]]:
    """`database(name)`: a database on the test server, dropped when the test ends."""
    from hnth_kit.mongo import connect

    client = connect(infra.mongodb_url)
    names: list[str] = []

    def open_(name: str) -> AsyncDatabase[Document]:
        names.append(name)
        return client[name]

    yield open_
    for name in names:
        await client.drop_database(name)
    await client.close()


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    """A real OpenID provider on 127.0.0.1: zitadel/oidc's example server, built from the
    Go module proxy (infra/oidc), with one confidential client (`hnth-ops`, its secret
    generated here) whose redirect URI is never followed (tests read the code from the
    redirect). Its people (`.users`) have passwords generated for this session."""
    import secrets

    from infra import stack

    users = [
        stack.OidcUser("u-an", "an.nguyen", secrets.token_urlsafe(12), "an.nguyen@langson.gov.vn",
                       "An", "Nguyễn Văn"),
        stack.OidcUser("u-binh", "binh.tran", secrets.token_urlsafe(12), "binh.tran@hue.gov.vn",
                       "Bình", "Trần Thị"),
        stack.OidcUser("u-stranger", "stranger", secrets.token_urlsafe(12), "stranger@example.org"),
    ]  # fmt: skip
    run_dir = tmp_path_factory.mktemp("oidc")
    try:
        provider = stack.start_oidc_provider(
            run_dir, users, ["http://127.0.0.1:9/hnth/sso/callback"]
        )
    except stack.StackError as exc:
        pytest.fail(f"cannot start the OpenID provider: {exc}", pytrace=False)
    try:
        yield provider
    finally:
        provider.stop()


def pytest_report_header(config: pytest.Config) -> str:
    return "infra: env vars > testcontainers (Docker) > native Kafka + FerretDB (infra/stack.py)"


# `make unit-clock`: the unit suite on a clock set to a chosen moment (a Sunday, a new year)
# and moved on after collection (across a midnight in Vietnam). A test that fixes a day when
# its module is imported and asks a page that counts "today" or "this week" at the request
# fails there, not in a CI run that happens to run on a Sunday or across midnight.
TEST_CLOCK = os.environ.get("HNTH_TEST_CLOCK")
"""ISO 8601 moment the clock starts at (ticking) before collection; unset: the real clock."""
TEST_CLOCK_AFTER_COLLECTION = os.environ.get("HNTH_TEST_CLOCK_AFTER_COLLECTION")
"""ISO 8601 moment the clock moves to once the test modules are imported."""
_travel: list[time_machine.Coordinates] = []


def pytest_configure(config: pytest.Config) -> None:
    if TEST_CLOCK:
        start = datetime.fromisoformat(TEST_CLOCK)
        _travel.append(time_machine.travel(start, tick=True).start())


def pytest_collection_finish(session: pytest.Session) -> None:
    if _travel and TEST_CLOCK_AFTER_COLLECTION:
        _travel[0].move_to(datetime.fromisoformat(TEST_CLOCK_AFTER_COLLECTION))
