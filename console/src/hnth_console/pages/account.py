"""My account: who I am, a new password, two-factor (TOTP) enrolment with a QR code, my
calendar links for a phone's calendar app, and signing out everywhere. Registration keeps
the account and the links; this page only asks it."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlparse

import segno
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from hnth_console.backends import BackendError, Backends
from hnth_console.deps import Services, Session, page
from hnth_console.reads import optional
from hnth_console.render import render, see_other
from hnth_console.session import store

router = APIRouter(include_in_schema=False)
Me = Annotated[Session, Depends(page("account"))]
DONE = ("password_changed", "totp_enrolled", "totp_removed", "totp_required", "feed_revoked")


def qr_svg(uri: str, title: str) -> Markup:
    """The `otpauth://` URI as an inline SVG QR code (segno), for the authenticator app;
    `title` is what a screen reader says of it."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, title=title)
    return Markup(svg)  # noqa: S704 - segno's own SVG, no text of the person in it


async def account_page(
    request: Request, s: Session, backends: Backends, status: int = 200, **context: Any
) -> HTMLResponse:
    me, feeds = await asyncio.gather(
        backends.get("registration", "/accounts/me", s.token, s.lang),
        optional(backends.get("registration", "/calendar/feeds", s.token, s.lang)),
    )
    return render(
        request,
        s,
        "account.html",
        status,
        me=me,
        feeds=feeds or [],
        offered=feeds_offered(me),
        **context,
    )


def feeds_offered(me: dict[str, Any]) -> list[tuple[str, str]]:
    """The calendars this person may follow in a calendar app: a clerk's unit's (its
    meetings and those at its endpoints), a technician's endpoints'."""
    if me.get("role") == "registrar" and me.get("unit"):
        return [("unit", str(me["unit"]))]
    if me.get("role") == "technician":
        return [("endpoint", str(code)) for code in me.get("endpoints") or []]
    return []


@router.post("/account/feeds", response_class=HTMLResponse)
async def make_feed(
    request: Request,
    s: Me,
    backends: Services,
    kind: Annotated[str, Form()],
    code: Annotated[str, Form()],
) -> Response:
    """A new calendar link, shown once: the console's own address (the one people reach),
    with the secret registration made; `webcal:` opens the phone's calendar app."""
    try:
        made = await ask(backends, s, "POST", "/calendar/feeds", {"kind": kind, "code": code})
    except BackendError as exc:
        return await account_page(request, s, backends, exc.status, errors=errors_of(exc))
    key = parse_qs(urlparse(str(made["url"])).query)["key"][0]
    path = f"/calendar/feeds/{quote(str(made['id']))}.ics?key={quote(key)}"
    url = str(request.base_url).rstrip("/") + path
    made_link = {"url": url, "webcal": "webcal://" + url.split("://", 1)[1], "id": made["id"]}
    # the answer to a POST, not a redirect: the secret is shown this once and kept nowhere
    response = await account_page(request, s, backends, made_link=made_link)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/account/feeds/{feed_id}/revoke", response_class=HTMLResponse)
async def revoke_feed(request: Request, feed_id: str, s: Me, backends: Services) -> Response:
    path = f"/calendar/feeds/{quote(feed_id)}"
    return await act(request, s, backends, "DELETE", path, "feed_revoked")


@router.get("/calendar/feeds/{feed_id}.ics")
async def read_feed(feed_id: str, backends: Services, key: str = "") -> Response:
    """The calendar behind a link, for a calendar app (it cannot sign in: the secret in the
    link is the proof, which registration checks); the console is the address it reaches."""
    try:
        got = await backends.request(
            "GET",
            "registration",
            f"/calendar/feeds/{quote(feed_id)}.ics",
            "",
            "vi",
            params={"key": key},
        )
    except BackendError as exc:
        if exc.status >= 500:
            raise
        # a revoked or unknown link: its status, in words a calendar app may show (no page
        # to sign in on: nobody signs in here)
        return Response(exc.message, status_code=exc.status, media_type="text/plain")
    return Response(got.content, media_type=got.headers.get("content-type", "text/calendar"))


async def ask(
    backends: Backends, s: Session, method: str, path: str, body: Any = None
) -> dict[str, Any]:
    """Registration's answer to this person's request (an empty dict for a 204)."""
    answer = await backends.request(method, "registration", path, s.token, s.lang, json=body)
    found: dict[str, Any] = answer.json() if answer.content else {}
    return found


async def act(
    request: Request, s: Session, backends: Backends, method: str, path: str, done: str
) -> Response:
    """Ask registration to do it: back to the page saying it is `done`, or why not."""
    try:
        await ask(backends, s, method, path)
    except BackendError as exc:
        return await account_page(request, s, backends, exc.status, errors=errors_of(exc))
    return see_other("/account", done=done)


def errors_of(exc: BackendError) -> list[str]:
    """A refusal as lines to show; a service failure is raised to the error page."""
    if exc.status >= 500 or exc.status == 401:
        raise exc
    return [str(e.get("message", "")) for e in exc.errors] or [exc.message]


@router.get("/account", response_class=HTMLResponse)
async def my_account(
    request: Request, s: Me, backends: Services, done: str | None = None
) -> HTMLResponse:
    return await account_page(request, s, backends, done=done if done in DONE else None)


@router.post("/account/password", response_class=HTMLResponse)
async def change_password(
    request: Request,
    s: Me,
    backends: Services,
    current: Annotated[str, Form()],
    new: Annotated[str, Form()],
    confirm: Annotated[str, Form()],
) -> Response:
    if new != confirm:
        return await account_page(request, s, backends, 422, errors=[s.t("not_the_same")])
    try:
        await ask(backends, s, "POST", "/accounts/me/password", {"current": current, "new": new})
    except BackendError as exc:
        errors = errors_of(exc)
        if exc.code == "invalid_credentials" or exc.status in (400, 403):
            errors = [s.t("wrong_current_password")]
        return await account_page(request, s, backends, 422, errors=errors)
    return see_other("/account", done="password_changed")


@router.post("/account/totp", response_class=HTMLResponse)
async def enrol_totp(request: Request, s: Me, backends: Services) -> Response:
    """A new (pending) TOTP secret, shown as a QR code and as text, to confirm with a code."""
    try:
        pending = await ask(backends, s, "POST", "/accounts/me/totp")
    except BackendError as exc:
        return await account_page(request, s, backends, exc.status, errors=errors_of(exc))
    return await enrolment(request, s, backends, pending["secret"], pending["otpauth_uri"])


async def enrolment(
    request: Request,
    s: Session,
    backends: Backends,
    secret: str,
    uri: str,
    status: int = 200,
    errors: list[str] | None = None,
) -> HTMLResponse:
    return await account_page(
        request,
        s,
        backends,
        status,
        totp={"secret": secret, "uri": uri, "qr": qr_svg(uri, s.t("qr_title"))},
        errors=errors or [],
    )


@router.post("/account/totp/confirm", response_class=HTMLResponse)
async def confirm_totp(
    request: Request,
    s: Me,
    backends: Services,
    otp: Annotated[str, Form()],
    secret: Annotated[str, Form()],
    uri: Annotated[str, Form()],
) -> Response:
    try:
        await ask(backends, s, "POST", "/accounts/me/totp/confirm", {"otp": otp.strip()})
    except BackendError as exc:
        errors_of(exc)
        return await enrolment(request, s, backends, secret, uri, 422, [s.t("otp_wrong")])
    return see_other("/account", done="totp_enrolled")


@router.post("/account/totp/remove", response_class=HTMLResponse)
async def remove_totp(request: Request, s: Me, backends: Services) -> Response:
    return await act(request, s, backends, "DELETE", "/accounts/me/totp", "totp_removed")


@router.post("/account/signout-everywhere")
async def signout_everywhere(request: Request, s: Me, backends: Services) -> Response:
    """Every session of this account ends: its tokens are refused by every service."""
    await ask(backends, s, "POST", "/auth/logout-all")
    store(request, None)
    return see_other("/signin", why="signed_out")
