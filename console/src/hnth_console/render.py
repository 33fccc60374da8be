"""Pages rendered the one way: the template with what every page shows (navigation for the
person's role, times in the province's zone, their language), errors as `error.html`, and
the redirects that stay on this console."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from hnth_console import views
from hnth_console.backends import BackendError
from hnth_console.deps import (
    NAV,
    FormExpired,
    Refused,
    Session,
    SignInNeeded,
    language,
    session,
    session_state,
    templates_of,
)
from hnth_console.i18n import translator
from hnth_console.session import store
from hnth_kit.dlq import AlreadyResolved


def render(
    request: Request, s: Session | None, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    lang = s.lang if s else language(request)
    return templates_of(request).TemplateResponse(
        request,
        template,
        {
            "s": s,
            "t": translator(lang),
            "lang": lang,
            "nav": {n: path for n, path in NAV.items() if s and s.may(n)},
            "when": (lambda v, p="%d/%m %H:%M": views.shown_time(v, s.zone, p)) if s else str,
            "endpoints_of": views.endpoints_of,
            "decimal": lambda v, places=1: views.decimal(v, lang, places),
            "linked": views.meetings_linked,
            "letter_text": views.letter_text,
            "due_day": (lambda v: views.due_day(v, s.zone)) if s else str,
            "may_resend": bool(s and s.may("resend")),
            "new_key": lambda: uuid.uuid4().hex,  # one per resend button: a retry sends once
            "csrf": s.csrf if s else session_state(request).csrf,  # every form posts it
            "refused": status >= 400,  # console.js brings the first reason into view
            **context,
        },
        status_code=status,
    )


def error(request: Request, s: Session | None, status: int, message: str) -> HTMLResponse:
    """The error page with `message`, answered with `status`, and a way back: the page the
    request came from when it is this console's (a refused form's page), else the first."""
    came_from = urlsplit(request.headers.get("referer", ""))
    ours = came_from.netloc == request.url.netloc and came_from.path.startswith("/")
    back = safe_next(came_from.path) if ours and came_from.path != request.url.path else "/"
    return render(request, s, "error.html", status, message=message, back=back)


def see_other(target: str, **params: str) -> RedirectResponse:
    """303 to `target` (with `params` added to its query)."""
    return RedirectResponse(with_query(target, **params) if params else target, status_code=303)


def with_query(path: str, **params: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}{urlencode(params)}"


HOME = "/"
"""The console's first page: it sends each person on to their own (`signin.home`)."""


def safe_next(target: str) -> str:
    """Only paths of this console (no open redirect to another site)."""
    return target if target.startswith("/") and not target.startswith("//") else HOME


# ------------------------------------------------------------ error pages


def to_sign_in(request: Request, why: str | None = None) -> Response:
    """303 to the sign-in page, back to this page (if a page to read) once signed in."""
    back = request.url.path if request.method == "GET" else HOME
    params = {"next": safe_next(back), **({"why": why} if why else {})}
    if request.headers.get("hx-request"):  # a fragment htmx polls: the whole page goes
        params["next"] = safe_next(back.removesuffix("/live"))
        return Response(status_code=204, headers={"HX-Redirect": with_query("/signin", **params)})
    return see_other("/signin", **params)


async def sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInNeeded)
    return to_sign_in(request, exc.why)


async def form_expired(request: Request, _: Exception) -> Response:
    try:
        s: Session | None = await session(request)
    except SignInNeeded:
        s = None
    return error(request, s, 403, translator(language(request))("form_expired"))


async def refused(request: Request, _: Exception) -> Response:
    s = await session(request)
    return error(request, s, 403, s.t("forbidden"))


async def backend_failed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BackendError)
    if exc.status == 401:  # the service refused the token (expired, revoked, disabled)
        store(request, None)
        return to_sign_in(request, "session_ended")
    s = await session(request)
    if exc.status in (403, 404):  # the service's own words: no such thing, or not yours
        return error(request, s, exc.status, exc.message)
    message = f"{s.t('backend_error')} ({exc.service} {exc.status}): {exc.message}"
    return error(request, s, 502, message)


async def no_such_page(request: Request, exc: Exception) -> Response:
    """An address this console has no page for: the error page, not the framework's
    JSON (other HTTP errors as the framework answers them)."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code != 404:
        return await http_exception_handler(request, exc)
    try:
        s: Session | None = await session(request)
    except SignInNeeded:
        s = None
    return error(request, s, 404, translator(language(request))("no_such_page"))


async def unreadable(request: Request, exc: Exception) -> Response:
    """An address or form whose values do not read (`/reports?year=abc`): the error page
    naming them, not the framework's JSON."""
    assert isinstance(exc, RequestValidationError)
    try:
        s: Session | None = await session(request)
    except SignInNeeded:
        s = None
    t = translator(language(request))
    fields = dict.fromkeys(str(e["loc"][-1]) for e in exc.errors() if e.get("loc"))
    names = ", ".join(t(f) for f in fields)  # the page's word for it where there is one
    said = t("unreadable_request")
    return error(request, s, 422, f"{said}: {names}" if names else said)


async def already_resolved(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AlreadyResolved)
    s = await session(request)
    done = exc.resolution
    message = (
        f"{s.t('already_resolved')}: {done.ref} · {s.t(done.action)} · {done.by} · "
        f"{views.shown_time(done.at, s.zone)} · {done.reason}"
    )
    return error(request, s, 409, message)


def install_error_pages(app: FastAPI) -> None:
    """Sign-in needed or a service's 401 -> the sign-in form; a form without its CSRF
    token, refused, a service's error, a dead letter already dealt with, values that do not
    read -> the error page, in the person's language."""
    app.add_exception_handler(SignInNeeded, sign_in)
    app.add_exception_handler(FormExpired, form_expired)
    app.add_exception_handler(Refused, refused)
    app.add_exception_handler(BackendError, backend_failed)
    app.add_exception_handler(AlreadyResolved, already_resolved)
    app.add_exception_handler(RequestValidationError, unreadable)
    app.add_exception_handler(StarletteHTTPException, no_such_page)
