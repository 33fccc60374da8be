"""Signing in with the province's account: `/signin/sso/{tenant}` sends the person to the
province's OpenID provider (authorization code + PKCE, `state` and `nonce` kept in the
session), `/signin/sso/callback` buys the id_token with the code and hands it to
registration (`POST /auth/sso`), which names the account and answers the same tokens as
a password sign-in. Registration never creates an account here: a person it does not
know reads so, in plain words."""

from __future__ import annotations

import hmac
import logging
import time

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from hnth_console.backends import BackendError
from hnth_console.deps import Services, Settings, language, session_state, words
from hnth_console.pages.signin import signed_in, signin_page
from hnth_console.render import HOME, safe_next, see_other
from hnth_console.session import SsoPending, claims_of, store
from hnth_console.sso import Provider, Sso, SsoUnavailable

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

SSO_WAIT = 600
"""Seconds the console waits for the person to come back from the provider."""


def redirect_uri(request: Request, settings: Settings) -> str:
    """The callback URL registered at the provider: under `HNTH_CONSOLE_PUBLIC_URL` when
    the console is behind a proxy, else as this request reached it."""
    if settings.console_public_url:
        return settings.console_public_url.rstrip("/") + "/signin/sso/callback"
    return str(request.url_for("sso_callback"))


@router.get("/signin/sso/callback", name="sso_callback")
async def sso_callback(
    request: Request,
    settings: Settings,
    backends: Services,
    code: str = "",
    state: str = "",
    error: str = "",
) -> Response:
    """The provider sends the person back here with a code (or an error)."""
    t, session = words(request), session_state(request)
    pending = session.sso
    if pending is None or pending.until < time.time():
        return see_other("/signin", why="session_ended")
    if not hmac.compare_digest(state, pending.state):
        return see_other("/signin", next=pending.next, why="session_ended")
    store(request, session.model_copy(update={"sso": None}))  # a callback works once
    form, next = {"tenant": pending.tenant}, pending.next
    if error or not code:  # the person cancelled, or the provider refused
        return await signin_page(
            request, settings, 401, error=t("sso_refused"), form=form, next=next
        )
    sso: Sso = request.app.state.sso
    provider = (await sso.providers(backends, language(request))).get(pending.tenant)
    try:
        if provider is None:
            raise SsoUnavailable(f"{pending.tenant} no longer has SSO")
        id_token = await sso.exchange(
            provider, redirect_uri(request, settings), code, pending.verifier
        )
        nonce = claims_of(id_token).get("nonce")
    except (SsoUnavailable, ValueError) as exc:
        log.warning("SSO sign-in to %s failed: %s", pending.tenant, exc)
        return await signin_page(
            request, settings, 503, error=t("sso_unavailable"), form=form, next=next
        )
    if not isinstance(nonce, str) or not hmac.compare_digest(nonce, pending.nonce):
        log.warning("SSO sign-in to %s: the id_token does not carry our nonce", pending.tenant)
        return await signin_page(
            request, settings, 401, error=t("sso_refused"), form=form, next=next
        )
    try:
        answer = await backends.request(
            "POST",
            "registration",
            "/auth/sso",
            "",
            language(request),
            json={"tenant": pending.tenant, "id_token": id_token},
        )
    except BackendError as exc:
        if exc.code == "sso_unknown_person":
            message, status = t("sso_unknown_person"), 403
        elif exc.status < 500:
            message, status = t("sso_refused"), 401
        else:
            message, status = f"{t('signin_unavailable')} ({exc.status})", 503
        return await signin_page(request, settings, status, error=message, form=form, next=next)
    return signed_in(request, answer.json(), next)


@router.get("/signin/sso/{tenant}")
async def sso_start(
    request: Request, settings: Settings, backends: Services, tenant: str, next: str = HOME
) -> Response:
    """Off to the province's provider, the way back kept in the session."""
    sso: Sso = request.app.state.sso
    provider: Provider | None = (await sso.providers(backends, language(request))).get(tenant)
    if provider is None:
        return await signin_page(
            request, settings, 404, error=words(request)("sso_not_here"), next=safe_next(next)
        )
    try:
        started = await sso.start(provider, redirect_uri(request, settings))
    except (SsoUnavailable, KeyError) as exc:
        log.warning("cannot start the SSO sign-in to %s: %s", tenant, exc)
        error = words(request)("sso_unavailable")
        return await signin_page(
            request, settings, 503, error=error, form={"tenant": tenant}, next=safe_next(next)
        )
    pending = SsoPending(
        tenant=tenant,
        state=started.state,
        nonce=started.nonce,
        verifier=started.verifier,
        next=safe_next(next),
        until=time.time() + SSO_WAIT,
    )
    store(request, session_state(request).model_copy(update={"sso": pending, "pending": None}))
    return RedirectResponse(started.url, status_code=303)
