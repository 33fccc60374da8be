"""The console's pages. Every page reads the services over HTTP with the person's own
token (pasted at sign-in, kept in an HttpOnly cookie); the services enforce their own
rules, and the console refuses a page to roles that have no business there.

`build` puts what the pages depend on in `app.state` (see `deps`), the error pages (see
`render`) and the pages' routers (see `pages`) together."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from hnth_console.backends import Backends
from hnth_console.pages import ROUTERS
from hnth_console.render import install_error_pages
from hnth_console.settings import ConsoleSettings
from hnth_contracts.policy import load_policy
from hnth_kit.health import health_router

HERE = Path(__file__).parent


def build(settings: ConsoleSettings) -> FastAPI:
    backends = Backends(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await backends.close()

    app = FastAPI(title="HNTH Ops: bảng điều hành / operator console", lifespan=lifespan)
    app.state.settings = settings
    app.state.keys = settings.public_keys()
    app.state.backends = backends
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    app.state.policy = functools.cache(functools.partial(load_policy, settings.policy_dir))
    install_error_pages(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(health_router({}))
    for router in ROUTERS:
        app.include_router(router)
    return app
