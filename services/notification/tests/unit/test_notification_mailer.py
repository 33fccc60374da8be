"""The e-mail channel keeps its SMTP connection between notices (a real SMTP server in
the test process: aiosmtpd, the `smtp` fixture of the notification tests' conftest)."""

from __future__ import annotations

from email.message import EmailMessage

from hnth_kit.testing import SmtpServer
from notification.delivery import Mailer, SmtpConfig
from notification.domain import attempts


def mail(n: int, to: str = "kythuat@xa.example.vn") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "hnth@so.example.vn"
    message["To"] = to
    message["Subject"] = f"Thông báo {n}"
    message.set_content(f"Nội dung {n}")
    return message


async def test_notices_share_one_kept_connection(smtp: SmtpServer) -> None:
    mailer = Mailer(SmtpConfig("127.0.0.1", smtp.port))
    for n in range(5):
        assert await mailer.send(mail(n)) == attempts.DELIVERED
    await mailer.close()
    assert [m["Subject"] for m in smtp.inbox.messages] == [f"Thông báo {n}" for n in range(5)]
    assert len(smtp.inbox.peers) == 1


async def test_a_connection_the_server_dropped_is_replaced_without_a_retry(
    smtp: SmtpServer,
) -> None:
    mailer = Mailer(SmtpConfig("127.0.0.1", smtp.port))
    assert await mailer.send(mail(1)) == attempts.DELIVERED
    smtp.stop()  # ends the kept session
    smtp.start()
    assert await mailer.send(mail(2)) == attempts.DELIVERED
    await mailer.close()
    assert len(smtp.inbox.messages) == 2
    assert len(smtp.inbox.peers) == 2


async def test_a_refused_mailbox_keeps_the_connection_for_the_next_notice(
    smtp: SmtpServer,
) -> None:
    smtp.inbox.unknown.add("khong-co@xa.example.vn")
    mailer = Mailer(SmtpConfig("127.0.0.1", smtp.port))
    refused = await mailer.send(mail(1, to="khong-co@xa.example.vn"))
    assert refused.permanent
    assert "550" in refused.reason
    assert await mailer.send(mail(2)) == attempts.DELIVERED
    await mailer.close()
    assert len(smtp.inbox.peers) == 1
