"""Sign-in with a pasted token (kept in an HttpOnly cookie), sign-out, the language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from hnth_console.deps import LANG_COOKIE, TOKEN_COOKIE, Settings, verified, words
from hnth_console.render import render, safe_next, see_other
from hnth_kit.auth import InvalidToken, KeysUnavailable

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/board") -> HTMLResponse:
    return render(request, None, "login.html", next=safe_next(next))


@router.post("/login")
async def login(
    request: Request,
    settings: Settings,
    token: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/board",
) -> Response:
    token = token.strip()
    try:
        await verified(request, token)
    except (InvalidToken, KeysUnavailable):
        error = words(request)("bad_token")
        return render(request, None, "login.html", 401, error=error, next=next)
    response = see_other(safe_next(next))
    response.set_cookie(
        TOKEN_COOKIE, token, httponly=True, samesite="strict", secure=settings.secure_cookies
    )
    return response


@router.get("/logout")
async def logout() -> Response:
    response = see_other("/login")
    response.delete_cookie(TOKEN_COOKIE)
    return response


@router.get("/lang/{code}")
async def switch_language(code: str, next: str = "/board") -> Response:
    response = see_other(safe_next(next))
    response.set_cookie(LANG_COOKIE, "en" if code == "en" else "vi", samesite="lax")
    return response


@router.get("/")
async def home() -> Response:
    return see_other("/board")
