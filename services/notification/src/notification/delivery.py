"""The channels: e-mail over SMTP (aiosmtplib), signed webhooks (httpx) and SMS over
SMPP 3.4 (smpplib, in a worker thread: it is a blocking client).

Each send returns a `attempts.Attempt`; nothing here decides about retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from email.message import Message

import aiosmtplib
import httpx
import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm

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


DROPPED = (aiosmtplib.SMTPServerDisconnected, ConnectionError)
"""What a kept connection the server closed while it was idle raises on its next use."""


class Mailer:
    """E-mail over SMTP on kept-alive connections.

    A connection is opened when no idle one is at hand and kept for the next notice: a
    TCP handshake, EHLO and login per notice was most of a send. At most as many are
    open as notices are sent at once (each connection sends one at a time). A kept one
    the server dropped while idle (servers end idle sessions after minutes) is replaced
    at once: that is not the notice's failure, so it costs no retry.
    """

    def __init__(self, config: SmtpConfig) -> None:
        self._config = config
        self._idle: list[aiosmtplib.SMTP] = []

    async def send(self, message: Message) -> attempts.Attempt:
        try:
            await self._submit(content.wire(message), str(message["From"]), str(message["To"]))
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0]
            return attempts.smtp_reply(refused.code, refused.message)
        except aiosmtplib.SMTPResponseException as exc:
            return attempts.smtp_reply(exc.code, exc.message)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # unreachable, disconnected, timed out: the server may be back later
            return attempts.retry(f"{type(exc).__name__}: {exc}")
        return attempts.DELIVERED

    async def close(self) -> None:
        """Say goodbye on every idle connection (at the service's stop)."""
        while self._idle:
            client = self._idle.pop()
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await client.quit()

    async def _submit(self, wire: bytes, sender: str, recipient: str) -> None:
        while self._idle:
            client = self._idle.pop()
            try:
                return await self._on(client, wire, sender, recipient)
            except DROPPED:
                continue  # closed while idle: the next kept one, or a new one
        client = aiosmtplib.SMTP(
            hostname=self._config.host,
            port=self._config.port,
            start_tls=self._config.tls,
            username=self._config.username,
            password=self._config.password,
            timeout=self._config.timeout,
        )
        await client.connect()
        await self._on(client, wire, sender, recipient)

    async def _on(self, client: aiosmtplib.SMTP, wire: bytes, sender: str, to: str) -> None:
        """Send on `client`, and keep it unless its session broke. A refusal leaves the
        session usable (the client resets the envelope)."""
        try:
            await client.sendmail(sender, [to], wire)
        except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
            if client.is_connected:
                self._idle.append(client)
            raise
        except BaseException:
            client.close()
            raise
        self._idle.append(client)


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


@dataclass(frozen=True)
class SmppConfig:
    host: str
    port: int
    system_id: str
    password: str
    source: str = "HNTH"
    """The sender name shown on the phone (alphanumeric, at most 11 characters)."""
    timeout: float = 10.0
    receipt_wait: float = 5.0
    """How long to stay bound for the delivery receipts after the SMSC took the message;
    an SMSC that sends them later leaves the notice `sent` on its acceptance."""


PERMANENT_SMPP = {0x0A, 0x0B, 0x0C, 0x45}
"""Invalid source or destination address, bad message: the same submit never succeeds."""
FAILED_RECEIPT = ("UNDELIV", "REJECTD", "EXPIRED", "DELETED")


class SmsSender:
    """One bind (transceiver) per message: submit every part, wait briefly for receipts."""

    def __init__(self, config: SmppConfig) -> None:
        self._config = config

    async def send(self, phone: str, text: str) -> tuple[attempts.Attempt, str | None]:
        """The attempt, and the SMSC's message id of the first part once accepted."""
        try:
            return await asyncio.to_thread(self._send, phone, text)
        except smpplib.exceptions.PDUError as exc:
            status = int(exc.args[1]) if len(exc.args) > 1 else 0
            reason = f"SMPP 0x{status:08x} {exc.args[0] if exc.args else ''}".strip()
            final = status in PERMANENT_SMPP
            return (attempts.give_up(reason) if final else attempts.retry(reason)), None
        except (smpplib.exceptions.ConnectionError, OSError, TimeoutError) as exc:
            return attempts.retry(f"{type(exc).__name__}: {exc}"), None

    def _send(self, phone: str, text: str) -> tuple[attempts.Attempt, str | None]:
        c = self._config
        client = smpplib.client.Client(
            c.host, c.port, timeout=c.timeout, allow_unknown_opt_params=True
        )
        accepted: list[str] = []
        receipts: list[str] = []
        client.set_message_sent_handler(lambda pdu: accepted.append(_text(pdu.message_id)))
        client.set_message_received_handler(lambda pdu: receipts.append(_text(pdu.short_message)))
        parts, coding, esm_class = smpplib.gsm.make_parts(text)
        client.connect()
        try:
            client.bind_transceiver(system_id=c.system_id, password=c.password)
            for sent, part in enumerate(parts, start=1):
                client.send_message(
                    source_addr_ton=smpplib.consts.SMPP_TON_ALNUM,
                    source_addr=c.source,
                    dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
                    dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
                    destination_addr=phone.removeprefix("+"),
                    short_message=part,
                    data_coding=coding,
                    esm_class=esm_class,
                    registered_delivery=smpplib.consts.SMPP_SMSC_DELIVERY_RECEIPT_BOTH,
                )
                while len(accepted) < sent:
                    client.read_once(auto_send_enquire_link=False)
            deadline = time.monotonic() + c.receipt_wait
            while len(receipts) < len(parts) and (left := deadline - time.monotonic()) > 0:
                # smpplib reads with the connection's timeout; the receipts get what is left
                client._socket.settimeout(left)
                try:
                    client.read_once(auto_send_enquire_link=False)
                except TimeoutError:
                    break
            client.unbind()
        finally:
            client.disconnect()
        failed = [r for r in receipts if any(f"stat:{s}" in r for s in FAILED_RECEIPT)]
        if failed:
            return attempts.give_up(f"receipt: {failed[0]}"), accepted[0]
        return attempts.DELIVERED, accepted[0] if accepted else None


def _text(value: bytes | str | None) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value or "")
