"""Sign-in (province, username, password, then the one-time code when the account has
two-factor), sign-out, setting a password from an e-mailed link, and the language.

Registration checks the password and answers the tokens (`/auth/login`); the console
keeps them in the session and never sees a signing key."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from hnth_console import views
from hnth_console.backends import BackendError
from hnth_console.deps import (
    LANG_COOKIE,
    Services,
    Settings,
    SignInNeeded,
    language,
    policy_of,
    session,
    session_state,
    words,
)
from hnth_console.render import HOME, render, safe_next, see_other
from hnth_console.session import OTP_WAIT, Pending, SessionState, current, store
from hnth_console.sso import Sso
from hnth_contracts.rules import zone

router = APIRouter(include_in_schema=False)


def provinces(request: Request, settings: Any) -> list[tuple[str, str]]:
    """The provinces this console serves (one policy file each): code and name."""
    codes = sorted(p.stem for p in settings.policy_dir.glob("*.yaml"))
    return [(code, policy_of(request, code).name) for code in codes]


async def signin_page(
    request: Request, settings: Any, status: int = 200, **context: Any
) -> HTMLResponse:
    """The sign-in form, with a button per province whose people may sign in through its
    own OpenID provider (see `sso`)."""
    context.setdefault("next", HOME)
    context.setdefault("form", {})
    served = provinces(request, settings)
    sso: Sso = request.app.state.sso
    through = await sso.providers(request.app.state.backends, language(request))
    return render(
        request,
        None,
        "signin.html",
        status,
        provinces=served,
        sso=[(code, name) for code, name in served if code in through],
        **context,
    )


@router.get("/signin", response_class=HTMLResponse)
async def signin_form(
    request: Request,
    settings: Settings,
    next: str = HOME,
    why: str | None = None,
    tenant: str = "",
    username: str = "",
) -> HTMLResponse:
    """The form; `tenant` and `username` fill it in (after a password was set by link)."""
    session_state(request)  # a CSRF token for the form, before anyone signs in
    notice = words(request)(why) if why in ("session_ended", "signed_out", "password_set") else None
    form = {"tenant": tenant, "username": username[:64]}
    return await signin_page(request, settings, next=safe_next(next), notice=notice, form=form)


@router.post("/signin")
async def signin(
    request: Request,
    settings: Settings,
    backends: Services,
    tenant: Annotated[str, Form()],
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = HOME,
) -> Response:
    username = username.strip().lower()
    form = {"tenant": tenant, "username": username}
    if tenant not in dict(provinces(request, settings)):
        error = words(request)("wrong_password")
        return await signin_page(request, settings, 401, error=error, form=form, next=next)
    try:
        tokens = await login(request, backends, tenant, username, password, None)
    except BackendError as exc:
        if exc.code == "otp_required":
            pending = Pending(
                tenant=tenant, username=username, password=password, until=time.time() + OTP_WAIT
            )
            store(request, session_state(request).model_copy(update={"pending": pending}))
            return see_other("/signin/otp", next=safe_next(next))
        message, status = refusal_words(request, exc, tenant)
        return await signin_page(request, settings, status, error=message, form=form, next=next)
    return signed_in(request, tokens, next)


@router.get("/signin/otp", response_class=HTMLResponse)
async def otp_form(request: Request, settings: Settings, next: str = HOME) -> Response:
    pending = waiting(request)
    if pending is None:
        return see_other("/signin", next=safe_next(next), why="session_ended")
    form = {"tenant": pending.tenant, "username": pending.username}
    return await signin_page(request, settings, otp_step=True, form=form, next=safe_next(next))


@router.post("/signin/otp")
async def signin_otp(
    request: Request,
    settings: Settings,
    backends: Services,
    otp: Annotated[str, Form()],
    next: Annotated[str, Form()] = HOME,
) -> Response:
    pending = waiting(request)
    if pending is None:
        return see_other("/signin", next=safe_next(next), why="session_ended")
    form = {"tenant": pending.tenant, "username": pending.username}
    try:
        tokens = await login(
            request, backends, pending.tenant, pending.username, pending.password, otp.strip()
        )
    except BackendError as exc:
        message, status = refusal_words(request, exc, pending.tenant)
        if exc.code == "otp_required":  # the code was wrong or too old: try another
            return await signin_page(
                request, settings, 401, otp_step=True, error=message, form=form, next=next
            )
        store(request, SessionState.new())
        return await signin_page(request, settings, status, error=message, form=form, next=next)
    return signed_in(request, tokens, next)


def signed_in(request: Request, tokens: dict[str, Any], next: str) -> Response:
    """The session opened; on to the page asked for, or to enrol two-factor first when
    the province requires it of this role (`auth.totp_roles`)."""
    store(request, SessionState.new().signed_in(tokens, time.time()))
    if tokens.get("totp_enrollment_required"):
        return see_other("/account", done="totp_required")
    return see_other(safe_next(next))


def waiting(request: Request) -> Pending | None:
    """The sign-in waiting for its one-time code, if it has not waited too long."""
    state = session_state(request)
    pending = state.pending
    return pending if pending and pending.until > time.time() else None


async def login(
    request: Request,
    backends: Any,
    tenant: str,
    username: str,
    password: str,
    otp: str | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"tenant": tenant, "username": username, "password": password}
    if otp:
        body["otp"] = otp
    answer = await backends.request(
        "POST", "registration", "/auth/login", "", language(request), json=body
    )
    tokens: dict[str, Any] = answer.json()
    return tokens


def refusal_words(request: Request, exc: BackendError, tenant: str) -> tuple[str, int]:
    """What the person reads when the sign-in is refused, and the page's status."""
    t = words(request)
    if exc.code == "locked_out" or exc.status == 429:
        seconds = exc.retry_after or 15 * 60
        try:
            where = zone(policy_of(request, tenant))
        except (OSError, ValueError):  # no such province here: the country's zone
            where = ZoneInfo("Asia/Ho_Chi_Minh")
        at = datetime.now(UTC) + timedelta(seconds=seconds)
        return f"{t('locked_out')} {views.shown_time(at, where, '%H:%M %d/%m/%Y')}.", 429
    if exc.code == "otp_required":
        return t("otp_wrong"), 401
    if exc.status in (400, 401, 404, 422):
        return t("wrong_password"), 401
    return f"{t('signin_unavailable')} ({exc.status})", 503


@router.post("/signout")
async def signout(request: Request, backends: Services) -> Response:
    """Ends this session at registration (its refresh token stops working) and here."""
    state = current(request, request.app.state.sealer)
    if state is not None and state.refresh:
        try:
            await backends.request(
                "POST",
                "registration",
                "/auth/logout",
                state.access or "",
                language(request),
                json={"refresh_token": state.refresh},
            )
        except BackendError:
            pass  # ended here all the same; the refresh token expires on its own
    store(request, None)
    return see_other("/signin", why="signed_out")


@router.get("/login")
async def old_login(next: str = HOME) -> Response:
    """Where sign-in was before (bookmarks)."""
    return see_other("/signin", next=safe_next(next))


# ------------------------------------------------------------ set a password from a link


@router.get("/set-password", response_class=HTMLResponse)
async def set_password_form(request: Request, backends: Services, token: str = "") -> HTMLResponse:
    """The form, naming the account the link is for; a used, expired or unknown link says
    so at once (not after a password is typed) and offers no form."""
    session_state(request)
    whose = (await link_holder(request, backends, token)) if token else None
    if whose is None:
        return render(request, None, "set_password.html", 400, token="", errors=[])
    return render(request, None, "set_password.html", token=token, errors=[], whose=whose)


async def link_holder(request: Request, backends: Services, token: str) -> dict[str, str] | None:
    """The account (username and province's name) a set-password link is for; None when
    the link is used, expired or unknown."""
    try:
        answer = await backends.request(
            "POST",
            "registration",
            "/auth/set-password/check",
            "",
            language(request),
            json={"token": token},
        )
    except BackendError as exc:
        if exc.status >= 500:
            raise
        return None
    whose: dict[str, str] = answer.json()
    return {**whose, "province": policy_of(request, whose["tenant"]).name}


@router.post("/set-password", response_class=HTMLResponse)
async def set_password(
    request: Request,
    backends: Services,
    token: Annotated[str, Form()],
    password: Annotated[str, Form()],
    confirm: Annotated[str, Form()],
) -> Response:
    t = words(request)
    if password != confirm:
        whose = await link_holder(request, backends, token)
        return render(
            request,
            None,
            "set_password.html",
            422,
            token=token,
            errors=[t("not_the_same")],
            whose=whose,
        )
    try:
        account = await backends.request(
            "POST",
            "registration",
            "/auth/set-password",
            "",
            language(request),
            json={"token": token, "password": password},
        )
    except BackendError as exc:
        if exc.status >= 500:
            raise
        if exc.code == "invalid_link" or (exc.status == 400 and not exc.errors):
            # used meanwhile (another tab) or expired while typing: no form to fill again
            return render(request, None, "set_password.html", exc.status, token="", errors=[])
        errors = [e.get("message", "") for e in exc.errors] or [exc.message]
        whose = await link_holder(request, backends, token)
        return render(
            request, None, "set_password.html", exc.status, token=token, errors=errors, whose=whose
        )
    # the sign-in form filled in with the account the link was for: its holder may not
    # know which province and username the IT department gave them
    whose = account.json()
    return see_other(
        "/signin", why="password_set", tenant=whose["tenant"], username=whose["username"]
    )


# ------------------------------------------------------------ language, home


@router.get("/lang/{code}")
async def switch_language(code: str, next: str = HOME) -> Response:
    response = see_other(safe_next(next))
    response.set_cookie(LANG_COOKIE, "en" if code == "en" else "vi", samesite="lax")
    return response


@router.get("/")
async def home(request: Request) -> Response:
    """The first page of the person's day: a technician's own work, else the board."""
    try:
        s = await session(request)
    except SignInNeeded:
        return see_other("/signin")
    return see_other("/my" if s.may("my_work") else "/board")
