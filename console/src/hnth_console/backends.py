"""Calls to the services' HTTP APIs with the signed-in person's own token."""

from __future__ import annotations

from typing import Any

import httpx

from hnth_console.settings import ConsoleSettings


class BackendError(Exception):
    """A service refused or failed: its status and its message, in the person's language
    (with the refusal's `code`, its rule `errors` and the `retry_after` seconds it named)."""

    def __init__(
        self,
        service: str,
        status: int,
        message: str,
        *,
        code: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(f"{service}: {status} {message}")
        self.service = service
        self.status = status
        self.message = message
        self.code = code
        self.errors = errors or []
        self.retry_after = retry_after


def _refusal(service: str, response: httpx.Response) -> BackendError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("detail"), dict):
        body = body["detail"]
    code = body.get("code") if isinstance(body, dict) else None
    errors = body.get("errors") if isinstance(body, dict) else None
    retry = response.headers.get("retry-after", "")
    return BackendError(
        service,
        response.status_code,
        _message(response),
        code=str(code) if code else None,
        errors=[e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else None,
        retry_after=int(retry) if retry.isdecimal() else None,
    )


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        return str(detail.get("message") or detail)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])  # a problem body as the kit's guards send it, unwrapped
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return "; ".join(f"{e.get('field')}: {e.get('message')}" for e in body["errors"])
    return str(detail or body)[:300]


class Backends:
    def __init__(
        self,
        settings: ConsoleSettings,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """`transport`: for tests, a stand-in for the services."""
        self.urls = {
            "registration": settings.registration_url,
            "notification": settings.notification_url,
            "inspection": settings.inspection_url,
            "scheduling": settings.scheduling_url,
        }
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def close(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        service: str,
        path: str,
        token: str,
        lang: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        files: Any = None,
        data: Any = None,
    ) -> httpx.Response:
        """The service's answer; raises BackendError on 4xx/5xx or when it does not answer.
        `token` empty: a public route (sign-in), sent without one."""
        sent = {"Accept-Language": lang, **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        try:
            response = await self._http.request(
                method,
                self.urls[service] + path,
                params=params,
                json=json,
                headers=sent,
                files=files,
                data=data,
            )
        except httpx.HTTPError as exc:
            raise BackendError(service, 503, f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            raise _refusal(service, response)
        return response

    async def get(self, service: str, path: str, token: str, lang: str, **params: Any) -> Any:
        query = {k: v for k, v in params.items() if v is not None}
        return (await self.request("GET", service, path, token, lang, params=query)).json()
