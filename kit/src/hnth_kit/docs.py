"""The OpenAPI document's page (`/docs`), served whole by the service itself: Swagger UI's
files come with the `fastapi-swagger` package, so the page works on a provincial server
without the internet (FastAPI's own loads them from a CDN, and was blank there)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi_swagger import patch_fastapi


def serve_docs(app: FastAPI) -> None:
    """`/docs` and its files under `/docs/` (the app is made with `docs_url=None`)."""
    patch_fastapi(
        app,
        docs_url="/docs",
        redirect_from_root_to_docs=False,
        swagger_js_url="/docs/swagger-ui-bundle.js",
        swagger_css_url="/docs/swagger-ui.css",
        swagger_favicon_url="/docs/favicon-32x32.png",
    )
