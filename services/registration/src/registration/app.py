"""Composition root: settings -> store, broker, handlers, HTTP app."""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import Field, SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send

from hnth_contracts import (
    AccessLinkIssued,
    ContactsUpdated,
    EndpointGroupUpdated,
    EndpointUpdated,
    HoldDecided,
    MeetingCancelled,
    MeetingChanged,
    MeetingRequested,
    ReportSubmitted,
    SubmissionAccepted,
    SubmissionRefused,
    TenantMerged,
    TenantRenamed,
    TokensRevoked,
    UnitUpdated,
)
from hnth_kit.auth import (
    InvalidToken,
    KeysFile,
    Role,
    SigningKeys,
    StaticKeys,
    issue_token,
    public_key_set,
    verify_token,
)
from hnth_kit.clock import Clock
from hnth_kit.http import MAX_BODY_BYTES, BodyLimit
from hnth_kit.service import Outputs, Service
from hnth_kit.settings import REPO_ROOT, ServiceSettings
from hnth_kit.tenants import CodeFields
from hnth_kit.topics_admin import ensure_topics
from registration import technician_list
from registration.account_store import ACCOUNTS, AccountStore
from registration.directory import load_if_empty, read_directories
from registration.domain.sso import SsoConfig
from registration.feed_store import FEEDS, FeedStore
from registration.handlers import handlers, unreadable
from registration.http import (
    access,
    accounts,
    auth,
    calendar,
    directory,
    materials,
    meetings,
    room_rules,
    signing,
    sso,
    systems,
    tenants,
)
from registration.http.deps import State
from registration.migrations import tenant_keys, two_tiers
from registration.sso_keys import IssuerKeys
from registration.sso_store import SsoStore
from registration.store import (
    ACCESS,
    ANSWERS,
    CHUNKS,
    DIRECTORY,
    ENDPOINTS,
    GROUPS,
    MATERIALS,
    MEETINGS,
    RECORDS,
    ROOM_RULES,
    TIMELINE,
    UNITS,
    MaterialsStore,
    RegistrationStore,
    SystemAnswers,
    Upgrades,
)
from registration.system_store import SYSTEMS, SystemStore
from registration.tenant_store import TENANT_OPS, TenantOpsStore
from registration.usecases.accounts import Accounts
from registration.usecases.directory import DirectoryCases
from registration.usecases.feeds import Feeds
from registration.usecases.inbound import Inbound, Verify
from registration.usecases.materials import Materials
from registration.usecases.meetings import Meetings
from registration.usecases.room_rules import RoomRules
from registration.usecases.signin import SignIn, TokenIssuer
from registration.usecases.sso import SsoSignIn
from registration.usecases.systems import Systems
from registration.usecases.tenants import TenantChanges
from registration.usecases.timeline import Timeline
from registration.views import answers


class RegistrationSettings(ServiceSettings):
    service_name: str = "registration"
    http_port: int = 8001
    consume_fetch_min_bytes: int = Field(default=32 * 1024, ge=1)
    """The events it records (meetings' lives, decisions, checks, reports) are gathered for
    up to the fetch wait (100 ms), as the back office's are: at 50 meetings/s each fetch
    brought one or two, and its CPU a meeting was 4.7-5.2 ms against 1.5-1.6 gathered
    (`bench/results/2026-12-06-e2e-ab-lanes-*`). The inbound topics, whose senders wait
    for an answer, have a consumer of their own fetched at once (`prompt_inputs`)."""
    directory_dir: Path = REPO_ROOT / "data"
    """Province directory files (`<tenant>.yaml`), loaded when a province has none yet."""
    pdf_fonts: Path = technician_list.FONT_DIR
    """The folder with DejaVuSans.ttf and DejaVuSans-Bold.ttf, for the PDF exports."""
    max_body_bytes: int = 21 * 1024 * 1024
    """The materials upload's limit (multipart): room for the policies' largest
    `materials.max_bytes` (20 MiB) and the form around it. Only that route gets it."""
    max_json_bytes: int = Field(default=MAX_BODY_BYTES, ge=1024)
    """Every other route (JSON bodies): the kit's small limit."""
    signing_keys_file: Path | None = None
    """The private keys that sign access tokens (a JWKS file, `hnth keys generate`);
    read again when it changes, so a rotation needs no restart. Registration only."""
    signing_keys: SecretStr | None = None
    """The same keys inline as JWKS JSON (tests); the file wins when both are set."""

    def keys(self) -> Callable[[], SigningKeys]:
        """The current signing keys (the file's, as of its last change). The file is read
        on first use: the service reads it at start (and stops if it cannot), while
        `kafka-grants` and `kafka-provision`, which sign nothing, run without it."""
        if self.signing_keys_file is not None:
            path, opened = self.signing_keys_file, list[KeysFile]()

            def current() -> SigningKeys:
                if not opened:
                    opened.append(KeysFile(path))
                return opened[0].current_keys()

            return current
        if self.signing_keys is not None:
            fixed = SigningKeys(json.loads(self.signing_keys.get_secret_value()))
            return lambda: fixed
        raise ValueError("set HNTH_SIGNING_KEYS_FILE (create it with `hnth keys generate`)")

    console_url: str = "http://127.0.0.1:8080"
    """Where people open the console: set-password links point there."""


TENANT_MOVES = {
    MEETINGS: CodeFields(
        units=("host_unit",),
        endpoints=("main_endpoint", "endpoints"),
        unique=("idempotency_key",),
    ),
    TIMELINE: CodeFields(),
    UNITS: CodeFields(units=("code",), key="code"),
    ENDPOINTS: CodeFields(endpoints=("code",), units=("unit",), key="code"),
    GROUPS: CodeFields(endpoints=("endpoints",), units=("units",), key="code"),
    MATERIALS: CodeFields(endpoints=("endpoint",)),
    ROOM_RULES: CodeFields(endpoints=("endpoint",)),
    CHUNKS: CodeFields(),
    ACCESS: CodeFields(),
    ANSWERS: CodeFields(),
    RECORDS: CodeFields(endpoints=("endpoint",)),
    ACCOUNTS: CodeFields(
        accounts=("username",), units=("unit",), endpoints=("endpoints",), key="username"
    ),
    FEEDS: CodeFields(
        accounts=("subject",), units=("code", "unit"), endpoints=("code", "endpoints")
    ),
}
"""What a merge moves (`hnth_kit.tenants`): every collection of a province's meetings,
directory, files and accounts; contacts stay the former province's record (the new
province's contacts stand)."""


UPLOAD = re.compile(r"^/(meetings/[^/]+/materials|endpoints/[^/]+/room-rules)/?$")


class JsonBodyLimit:
    """ASGI middleware: bodies of every route but the uploads (materials, room rules) are held to
    `max_bytes` (413), so a JSON route never reads megabytes; the upload keeps the
    service-wide limit the kit applies inside."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.limited = BodyLimit(app, max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        upload = (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and UPLOAD.match(scope["path"]) is not None
            # FastAPI reads a form before it checks the token: without one, the small limit
            and any(name == b"authorization" for name, _ in scope["headers"])
        )
        await (self.app if upload else self.limited)(scope, receive, send)


def token_issuer(keys: Callable[[], SigningKeys]) -> TokenIssuer:
    """Access tokens signed with registration's current keys."""

    def issue(
        *,
        role: str,
        tenant: str,
        subject: str,
        unit: str | None,
        endpoints: Sequence[str],
        name: str | None,
        ttl: timedelta,
        now: datetime,
    ) -> str:
        return issue_token(
            keys(),
            role=Role(role),
            tenant=tenant,
            subject=subject,
            unit=unit,
            endpoints=endpoints,
            name=name,
            ttl=ttl,
            now=now,
        )

    return issue


def token_subject(keys: Callable[[], SigningKeys]) -> Verify:
    """The subject of a token registration's current keys signed, if it was valid at the
    time asked (an inbound request's sending: a request queued while registration was
    down is still its sender's)."""

    async def verify(token: str, at: datetime) -> str | None:
        try:
            return verify_token(public_key_set(keys().public()), token, at).subject
        except InvalidToken:
            return None

    return verify


def build(settings: RegistrationSettings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or RegistrationSettings()  # type: ignore[call-arg]
    topics = settings.topics
    keys = settings.keys()
    provinces = sorted(path.stem for path in settings.policy_dir.glob("*.yaml"))

    service = Service(
        settings,
        title="HNTH Ops: đăng ký / registration",
        description=(
            "Đăng ký sử dụng hệ thống HNTH, danh bạ điểm cầu / "
            "registers meetings on the network; the province's directory"
        ),
        inputs=[
            topics.meetings,
            topics.slots,
            topics.checks,
            topics.reports,
        ],
        # integrating systems wait for their submissions' answers
        prompt_inputs=[topics.inbound(p) for p in provinces],
        outputs=Outputs(
            {
                topics.meetings: (MeetingRequested, MeetingChanged, MeetingCancelled, HoldDecided),
                topics.directory: (
                    UnitUpdated,
                    EndpointUpdated,
                    EndpointGroupUpdated,
                    ContactsUpdated,
                ),
                topics.reports: (ReportSubmitted,),
                topics.access: (TokensRevoked, AccessLinkIssued),
                topics.tenants: (TenantMerged, TenantRenamed),
            },
            per_system={
                topics.replies_prefix(p): (SubmissionAccepted, SubmissionRefused) for p in provinces
            },
        ),
        outbox_collections=[
            MEETINGS,
            *DIRECTORY,
            RECORDS,
            MATERIALS,
            ACCOUNTS,
            SYSTEMS,
            TENANT_OPS,
            ANSWERS,
        ],
        clock=clock,
        verify_with=StaticKeys(lambda: keys().public()),
        error_responses=answers(401, 403, 404),
    )
    service.api.add_middleware(JsonBodyLimit, max_bytes=settings.max_json_bytes)
    store = RegistrationStore(service.db, topics)
    files = MaterialsStore(service.db, topics)
    people = AccountStore(service.db, topics, store.units, store.endpoints)
    system_rows = SystemStore(service.db, topics, store.units)

    sso_configs: dict[str, SsoConfig] = {}

    async def load_directory() -> None:
        files = await asyncio.to_thread(read_directories, settings.directory_dir)
        await two_tiers(Upgrades(service.db), store, files, service.clock.now())
        await load_if_empty(store, files, service.clock.now())
        sso_configs.update({f.tenant: f.sso.config() for f in files if f.sso})

    service.on_startup(functools.partial(tenant_keys, Upgrades(service.db)))  # earlier data

    async def keys_readable() -> None:
        keys()  # a missing or unreadable keys file stops the start, not the first sign-in

    service.on_startup(keys_readable)
    service.on_startup(store.setup)
    service.on_startup(files.setup)
    service.on_startup(people.setup)
    service.on_startup(system_rows.setup)
    service.on_startup(load_directory)
    wake, policy_for, clock = service.relay.wake, service.policy_for, service.clock
    meeting_cases = Meetings(store, policy_for, clock, wake)
    made = functools.partial(ensure_topics, service.settings.kafka, dead_letters=False)
    replies = SystemAnswers(service.db, topics, made)
    inbound = Inbound(meeting_cases, system_rows, replies, clock, token_subject(keys))
    timeline = Timeline(store, files, clock)
    service.handle(handlers(timeline, inbound, topics))
    service.on_invalid(unreadable(inbound, topics))
    service.prefetch(timeline.prefetch)
    feed_rows = FeedStore(service.db)
    service.on_startup(feed_rows.setup)
    service.api.state.registration = State(
        keys=keys,
        meetings=meeting_cases,
        feeds=Feeds(feed_rows, meeting_cases, service.revocations, clock),
        materials=Materials(store, files, policy_for, clock, wake),
        directory=DirectoryCases(store, policy_for, clock, wake),
        accounts=Accounts(people, policy_for, clock, wake, settings.console_url),
        signin=SignIn(
            people,
            policy_for,
            clock,
            wake,
            settings.console_url,
            issuer=token_issuer(keys),
        ),
        room_rules=RoomRules(
            store, MaterialsStore(service.db, topics, ROOM_RULES), policy_for, clock
        ),
        pdf_fonts=settings.pdf_fonts,
        systems=Systems(system_rows, people, policy_for, clock, token_issuer(keys), wake),
    )
    for router in (signing.router, meetings.router, calendar.router, directory.router):
        service.include(router)
    service.include(room_rules.router)
    for router in (materials.router, access.router, materials.every, auth.router):
        service.include(router)
    service.api.state.sso = SsoSignIn(
        people,
        policy_for,
        clock,
        wake,
        settings.console_url,
        issuer=token_issuer(keys),
        keys=IssuerKeys(),
        used=SsoStore(service.db),
        configs=lambda: sso_configs,
    )
    for router in (accounts.router, sso.router, systems.router):
        service.include(router)
    service.api.state.tenant_changes = TenantChanges(
        TenantOpsStore(service.db, topics),
        settings.policy_dir,
        clock,
        wake,
        learn=lambda event: service.tenants.record(event, clock.now()),
    )
    service.include(tenants.router)
    service.tenants.moves(TENANT_MOVES)
    return service
