"""The console's pages. Every page reads the services over HTTP with the person's own
token (from registration's sign-in, kept in an encrypted session cookie, see `session`);
the services enforce their own rules, and the console refuses a page to roles that have
no business there. Every form posted carries the session's CSRF token.

`build` puts what the pages depend on in `app.state` (see `deps`), the error pages (see
`render`) and the pages' routers (see `pages`) together."""

from __future__ import annotations

import contextlib
import functools
import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from hnth_console.backends import Backends
from hnth_console.deps import csrf_checked
from hnth_console.pages import ROUTERS
from hnth_console.render import install_error_pages
from hnth_console.session import Sealer, SessionCookies
from hnth_console.settings import ConsoleSettings
from hnth_console.sso import Sso
from hnth_contracts.policy import load_policy
from hnth_kit.docs import serve_docs
from hnth_kit.health import health_router

HERE = Path(__file__).parent
log = logging.getLogger(__name__)


def build(settings: ConsoleSettings) -> FastAPI:
    backends = Backends(settings)
    secret = settings.console_session_secret
    if secret is None:
        log.warning("HNTH_CONSOLE_SESSION_SECRET is unset: sessions end when this console stops")
    sealer = Sealer(
        secret.get_secret_value() if secret else secrets.token_urlsafe(32),
        secure=settings.secure_cookies,
        max_age=settings.session_hours * 3600,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await backends.close()

    app = FastAPI(
        title="HNTH Ops: bảng điều hành / operator console",
        lifespan=lifespan,
        dependencies=[Depends(csrf_checked)],
        docs_url=None,  # served offline by `serve_docs`
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    serve_docs(app)
    app.add_middleware(SessionCookies, sealer=sealer)
    app.state.settings = settings
    app.state.sealer = sealer
    app.state.backends = backends
    app.state.sso = Sso()
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    app.state.policy = functools.cache(functools.partial(load_policy, settings.policy_dir))
    install_error_pages(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(health_router({}))
    for router in ROUTERS:
        app.include_router(router)
    return app
