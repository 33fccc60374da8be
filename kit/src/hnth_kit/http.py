"""HTTP guards every service installs: a request-body size limit and input errors in
one shape, so bad input always gets a clear 4xx naming the field and changes nothing.

- A body over the limit: 413, before the handler runs (a declared Content-Length is
  refused at once; a chunked body is counted while it is read).
- A body that is not JSON: 400. A body of the wrong shape or types: 422 with
  `{"errors": [{"field", "rule", "source", "message"}]}`, the same shape as a broken
  province rule, with `rule` = `schema.<pydantic error type>`.
- A query parameter the operation does not take: 422 naming it (`refuse_unknown_query`).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hnth_kit.errors import problem, wants_english
from hnth_kit.refusal import SCHEMA_SOURCE, Refusal, Violation, schema_violations

MAX_BODY_BYTES = 256 * 1024


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: refuse request bodies over `max_bytes` with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        request = Request(scope)
        body = problem(
            request,
            "body_too_large",
            f"Dữ liệu gửi lên vượt quá {self.max_bytes // 1024} KiB.",
            f"The request body exceeds {self.max_bytes // 1024} KiB.",
        )
        await JSONResponse(body, status_code=413)(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def _validation_errors(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    english = wants_english(request)
    errors = [v.body(english) for v in schema_violations(exc.errors())]
    if any(e["rule"] == "schema.json_invalid" for e in errors):
        body = problem(
            request,
            "invalid_json",
            "Dữ liệu gửi lên không phải JSON hợp lệ.",
            "The body is not valid JSON.",
        )
        return JSONResponse({**body, "errors": errors}, status_code=400)
    return JSONResponse({"errors": errors}, status_code=422)


def _http_error(_: Request, exc: Exception) -> JSONResponse:
    """A structured `detail` (our problem bodies, rule violations) IS the response body."""
    assert isinstance(exc, StarletteHTTPException)
    body = exc.detail if isinstance(exc.detail, dict) else {"detail": exc.detail}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


def _refused(request: Request, exc: Exception) -> JSONResponse:
    """A use case's `Refusal`, rendered in the caller's language."""
    assert isinstance(exc, Refusal)
    body = exc.body(wants_english(request))
    return JSONResponse(body, status_code=exc.status, headers=exc.headers or None)


LENIENT = "x-any-query"
"""An operation that takes any query (`openapi_extra={LENIENT: True}`): a link people
follow from an e-mail, which a mail gateway may have added parameters to."""


async def refuse_unknown_query(request: Request) -> None:
    """A query parameter the operation does not take is a 422 naming it: a misspelt filter
    (`stauts=held`) would otherwise be ignored and the answer look like what was asked.
    The operations' parameters are read from the OpenAPI document, once."""
    if not request.query_params:
        return
    route = request.scope.get("route")
    known = _query_names(request.app).get((getattr(route, "path_format", ""), request.method))
    if known is None:  # not a documented operation (docs pages)
        return
    unknown = [name for name in dict.fromkeys(request.query_params) if name not in known]
    if unknown:
        takes = ", ".join(sorted(known)) or "—"
        raise Refusal.broken(
            [
                Violation(
                    name,  # as a wrongly typed parameter is named
                    "schema.unknown_parameter",
                    SCHEMA_SOURCE,
                    f"Không có tham số '{name}' ở đây; tham số dùng được: {takes}",
                    f"There is no parameter '{name}' here; the parameters are: {takes}",
                )
                for name in unknown
            ]
        )


def _query_names(app: FastAPI) -> dict[tuple[str, str], frozenset[str]]:
    names: dict[tuple[str, str], frozenset[str]] | None = getattr(app.state, "query_names", None)
    if names is None:
        names = {
            (path, method.upper()): frozenset(
                p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"
            )
            for path, operations in app.openapi().get("paths", {}).items()
            for method, operation in operations.items()
            if isinstance(operation, dict) and not operation.get(LENIENT)
        }
        app.state.query_names = names
    return names


def install_http_guards(app: FastAPI, max_body_bytes: int = MAX_BODY_BYTES) -> None:
    """Body limit, uniform 4xx bodies for bad input, and use cases' refusals."""
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_exception_handler(Refusal, _refused)
    app.add_exception_handler(RequestValidationError, _validation_errors)
    app.add_exception_handler(StarletteHTTPException, _http_error)
