"""What a page depends on, taken from `request.app.state` (set once by `app.build`): the
settings, the services' client, the templates, the province's policy, and the signed-in
person (`Session`), refused a page their role has no business on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from hnth_console.backends import Backends
from hnth_console.i18n import Translate, translator
from hnth_console.settings import ConsoleSettings
from hnth_contracts.policy import Policy
from hnth_contracts.rules import zone
from hnth_kit.auth import (
    InvalidToken,
    KeysUnavailable,
    Principal,
    PublicKeys,
    Role,
    verify_token,
)

TOKEN_COOKIE = "hnth_token"  # noqa: S105 - the cookie's name, not a secret
LANG_COOKIE = "lang"
EVERYONE = frozenset(Role)
PAGES: dict[str, frozenset[Role]] = {
    "schedule": EVERYONE,
    "board": EVERYONE,
    "incidents": EVERYONE,
    "new_meeting": frozenset({Role.OPERATOR, Role.REGISTRAR}),
    "notices": frozenset({Role.OPERATOR, Role.VIEWER}),
    "reports": frozenset({Role.OPERATOR, Role.VIEWER}),
    "dead_letters": frozenset({Role.OPERATOR}),
    "resend": frozenset({Role.OPERATOR}),
}
"""Which roles see which page or action (the services still decide what each role sees
in it; notification itself refuses a resend to any role but the IT department's)."""
NAV = ("schedule", "board", "new_meeting", "notices", "incidents", "reports", "dead_letters")


class SignInNeeded(Exception):
    pass


class Refused(Exception):
    pass


class Session:
    """The signed-in person on this request: who, their token, their language."""

    def __init__(self, who: Principal, token: str, lang: str, zone: ZoneInfo) -> None:
        self.who = who
        self.token = token
        self.lang = lang
        self.zone = zone
        self.t = translator(lang)

    def may(self, page: str) -> bool:
        return self.who.role in PAGES[page]


# ------------------------------------------------------------ app.state


def settings_of(request: Request) -> ConsoleSettings:
    settings: ConsoleSettings = request.app.state.settings
    return settings


def backends_of(request: Request) -> Backends:
    backends: Backends = request.app.state.backends
    return backends


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


async def verified(request: Request, token: str) -> Principal:
    """The token's principal, checked with registration's public keys (InvalidToken)."""
    keys: PublicKeys = request.app.state.keys
    return verify_token(await keys.for_token(token), token)


async def session(request: Request) -> Session:
    token = request.cookies.get(TOKEN_COOKIE, "")
    try:
        who = await verified(request, token)
    except (InvalidToken, KeysUnavailable):
        raise SignInNeeded from None
    return Session(who, token, language(request), zone(policy_of(request, who.tenant)))


def page(name: str) -> Callable[[Session], Awaitable[Session]]:
    """A dependency: the signed-in person, refused (403 page) when their role may not see
    the page `name`."""

    async def check(s: Annotated[Session, Depends(session)]) -> Session:
        if not s.may(name):
            raise Refused
        return s

    return check
