"""The two channels: e-mail over SMTP (aiosmtplib) and signed webhooks (httpx).

Each send returns a `attempts.Attempt`; nothing here decides about retries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib
import httpx

from notification import content
from notification.domain import attempts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0


class Mailer:
    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    async def send(self, message: EmailMessage) -> attempts.Attempt:
        c = self._config
        try:
            await aiosmtplib.send(
                content.wire(message),
                sender=str(message["From"]),
                recipients=[str(message["To"])],
                hostname=c.host,
                port=c.port,
                start_tls=c.tls,
                username=c.username,
                password=c.password,
                timeout=c.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0]
            return attempts.smtp_reply(refused.code, refused.message)
        except aiosmtplib.SMTPResponseException as exc:
            return attempts.smtp_reply(exc.code, exc.message)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # unreachable, disconnected, timed out: the server may be back later
            return attempts.retry(f"{type(exc).__name__}: {exc}")
        return attempts.DELIVERED


class WebhookPoster:
    def __init__(self, timeout: float = 10.0) -> None:
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> attempts.Attempt:
        try:
            response = await self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return attempts.retry(f"{type(exc).__name__}: {exc}")
        return attempts.http_reply(response.status_code)

    async def close(self) -> None:
        await self._client.aclose()
