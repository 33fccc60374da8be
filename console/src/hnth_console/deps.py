"""What a page depends on, taken from `request.app.state` (set once by `app.build`): the
settings, the services' client, the templates, the province's policy, and the signed-in
person (`Session`), refused a page their role has no business on."""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from hnth_console.backends import BackendError, Backends
from hnth_console.i18n import Translate, translator
from hnth_console.session import (
    REFRESH_AHEAD,
    Person,
    Sealer,
    SessionState,
    current,
    person_of,
    store,
)
from hnth_console.settings import ConsoleSettings
from hnth_contracts.policy import Policy
from hnth_contracts.rules import zone
from hnth_kit.auth import Role

LANG_COOKIE = "lang"
EVERYONE = frozenset(Role)
PAGES: dict[str, frozenset[Role]] = {
    "schedule": EVERYONE,
    "board": EVERYONE,
    "incidents": EVERYONE,
    "new_meeting": frozenset({Role.OPERATOR, Role.REGISTRAR}),
    "notices": frozenset({Role.OPERATOR, Role.VIEWER}),
    "reports": frozenset({Role.OPERATOR, Role.VIEWER}),
    "keep_report": frozenset({Role.OPERATOR}),  # the year's report, kept as compiled
    "dead_letters": frozenset({Role.OPERATOR}),
    "resend": frozenset({Role.OPERATOR}),
    "account": EVERYONE,
    "accounts": frozenset({Role.OPERATOR}),
    "audit": frozenset({Role.OPERATOR}),
    # technician's pages
    "my_work": frozenset({Role.TECHNICIAN}),
    "tech_forms": frozenset({Role.TECHNICIAN, Role.OPERATOR}),
    # clerk's pages
    "change_meeting": frozenset({Role.OPERATOR, Role.REGISTRAR}),
    "meeting_feedback": frozenset({Role.OPERATOR, Role.REGISTRAR}),
    "material_access": frozenset({Role.OPERATOR}),
    "national_meeting": frozenset({Role.OPERATOR}),
    "technicians": EVERYONE,
    # duty officer's pages
    "calendar": EVERYONE,
    "directory": frozenset({Role.OPERATOR}),
    "inspection_plan": frozenset({Role.OPERATOR}),
    "arrange_meeting": frozenset({Role.OPERATOR}),  # approve / reject a held one, move one
}
"""Which roles see which page or action (the services still decide what each role sees
in it; notification itself refuses a resend to any role but the IT department's)."""
NAV: dict[str, str] = {
    # technician's pages
    "my_work": "/my",
    # clerk's pages
    # duty officer's pages
    "calendar": "/calendar",
    "directory": "/directory",
    "schedule": "/schedule",
    "board": "/board",
    "technicians": "/technicians",
    "new_meeting": "/meetings/new",
    "notices": "/notices",
    "incidents": "/incidents",
    "reports": "/reports",
    "dead_letters": "/dead-letters",
    "accounts": "/accounts",
    "audit": "/audit",
}
"""The navigation, in order: a page's i18n key and its path (shown to the roles in PAGES)."""


class SignInNeeded(Exception):
    """No session (or it ended): the sign-in page, saying `why` (an i18n key) if set."""

    def __init__(self, why: str | None = None) -> None:
        super().__init__(why)
        self.why = why


class Refused(Exception):
    pass


class FormExpired(Exception):
    """A form posted without this session's CSRF token (an old tab, another site)."""


class Session:
    """The signed-in person on this request: who, their token, their language, and the
    CSRF token their forms carry."""

    def __init__(self, who: Person, token: str, lang: str, zone: ZoneInfo, csrf: str) -> None:
        self.who = who
        self.token = token
        self.lang = lang
        self.zone = zone
        self.csrf = csrf
        self.t = translator(lang)

    def may(self, page: str) -> bool:
        return self.who.role in PAGES[page]

    def is_guest_at(self, meeting: Mapping[str, Any]) -> bool:
        """A clerk reading another unit's meeting held at their unit's endpoint: read only."""
        return self.who.role == Role.REGISTRAR and meeting.get("host_unit") != self.who.unit


# ------------------------------------------------------------ app.state


def settings_of(request: Request) -> ConsoleSettings:
    settings: ConsoleSettings = request.app.state.settings
    return settings


def backends_of(request: Request) -> Backends:
    backends: Backends = request.app.state.backends
    return backends


def sealer_of(request: Request) -> Sealer:
    sealer: Sealer = request.app.state.sealer
    return sealer


def templates_of(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


def policy_of(request: Request, tenant: str) -> Policy:
    """The tenant's policy (`app.state.policy` caches it per tenant)."""
    policy: Callable[[str], Policy] = request.app.state.policy
    return policy(tenant)


def warn_of(request: Request) -> timedelta:
    """How close to its check deadline a meeting turns red on the board."""
    return timedelta(minutes=settings_of(request).board_warn_minutes)


Settings = Annotated[ConsoleSettings, Depends(settings_of)]
Services = Annotated[Backends, Depends(backends_of)]


# ------------------------------------------------------------ the person


def language(request: Request) -> str:
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "vi"


def words(request: Request) -> Translate:
    """The console's words in the language of this request (signed in or not)."""
    return translator(language(request))


def session_state(request: Request) -> SessionState:
    """This request's session, a new (signed-out) one kept if it has none: its CSRF token
    is then the one the sign-in form carries."""
    state = current(request, sealer_of(request))
    if state is None:
        state = SessionState.new()
        store(request, state)
    return state


async def session(request: Request) -> Session:
    """The signed-in person; their access token refreshed first when it is within
    `REFRESH_AHEAD` seconds of its expiry (raises SignInNeeded when there is none)."""
    kept = request.scope.get("state", {}).get("hnth_console_session")
    if isinstance(kept, Session):
        return kept  # the error pages ask again after the page did
    state = current(request, sealer_of(request))
    now = time.time()
    if state is None or not state.access or state.refresh_exp <= now:
        raise SignInNeeded("session_ended" if state and state.access else None)
    if state.access_exp - now < REFRESH_AHEAD:
        state = await refreshed(request, state, now)
    assert state.access is not None
    try:
        who = person_of(state.access)
    except ValueError:
        store(request, None)
        raise SignInNeeded("session_ended") from None
    lang = language(request)
    found = Session(who, state.access, lang, zone(policy_of(request, who.tenant)), state.csrf)
    request.scope.setdefault("state", {})["hnth_console_session"] = found
    return found


async def refreshed(request: Request, state: SessionState, now: float) -> SessionState:
    """The session with rotated tokens from registration's `/auth/refresh`; when that
    fails, the same session while its access token lasts, else SignInNeeded."""
    try:
        answer = await backends_of(request).request(
            "POST",
            "registration",
            "/auth/refresh",
            "",
            language(request),
            json={"refresh_token": state.refresh},
        )
    except BackendError:
        if state.access_exp > now:
            return state  # e.g. another tab just rotated it: this token still works
        store(request, None)
        raise SignInNeeded("session_ended") from None
    new = state.refreshed(answer.json(), now)
    store(request, new)
    return new


async def csrf_checked(request: Request) -> None:
    """Every form posted carries this session's CSRF token (field `csrf`, or the header
    `X-CSRF-Token`): another site cannot post a form in the person's name."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    state = current(request, sealer_of(request))
    sent = request.headers.get("x-csrf-token")
    if sent is None and "form" in request.headers.get("content-type", ""):
        sent = str((await request.form()).get("csrf") or "")
    if state is None or not sent or not hmac.compare_digest(sent, state.csrf):
        raise FormExpired


def page(name: str) -> Callable[[Session], Awaitable[Session]]:
    """A dependency: the signed-in person, refused (403 page) when their role may not see
    the page `name`."""

    async def check(s: Annotated[Session, Depends(session)]) -> Session:
        if not s.may(name):
            raise Refused
        return s

    return check
