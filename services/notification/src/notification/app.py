"""Composition root: settings -> store, use cases, handlers, timers, sender loop, routers."""

from __future__ import annotations

from datetime import timedelta
from typing import Self

from prometheus_client import Counter
from pydantic import Field, SecretStr, model_validator

from hnth_contracts import NoticeAcknowledged, NoticeDelivered
from hnth_kit import batch_reads
from hnth_kit.clock import Clock
from hnth_kit.service import Outputs, Service
from hnth_kit.settings import CpuNice, ServiceSettings
from hnth_kit.tenants import DIRECTORY_COPY, REFERENCES
from notification.delivery import Mailer, SmppConfig, SmsSender, SmtpConfig, WebhookPoster
from notification.dispatch import Dispatcher, Doorbell
from notification.domain.notices import Webhooks
from notification.handlers import READ_MEETINGS, build_handlers, build_timer_handlers
from notification.http import acks, notices
from notification.store import ACKS, NOTICES, OUTCOMES, NotificationStore
from notification.usecases import Delivery, DeliveryConfig, Notifications


class NotificationSettings(ServiceSettings):
    """Defaults fit the dev SMTP sink of `make up` (127.0.0.1:1025, no TLS). When no SMTP
    server listens, deliveries retry with backoff and end `failed`; nothing crashes."""

    service_name: str = "notification"
    http_port: int = 8003
    cpu_nice: CpuNice = 10
    """Its work can wait seconds (notices go out days ahead): on a busy machine it yields
    the cores to scheduling's decisions (`bench/results/2026-12-05-e2e-rate50-nice*`)."""
    consume_fetch_min_bytes: int = Field(default=32 * 1024, ge=1)
    """Its fetches gather events for up to the fetch wait (100 ms) rather than answer
    with the first: fewer, bigger batches on a busy machine."""
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_sender: str = "hnth-ops@localhost"
    smtp_tls: bool = False
    """STARTTLS; off for the dev sink, on for a real relay."""
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = 10.0
    smpp_host: str = ""
    """The SMSC (SMPP 3.4); empty: SMS is off and `notice.sms` is not applied."""
    smpp_port: int = 2775
    smpp_system_id: str = ""
    smpp_password: SecretStr | None = None
    smpp_source: str = "HNTH"
    """The sender name shown on the phone (alphanumeric, at most 11 characters)."""
    smpp_timeout_seconds: float = 10.0
    smpp_receipt_wait_seconds: float = 5.0
    webhook_urls: list[str] | dict[str, list[str]] = Field(default_factory=list)
    """Subscribers (e-office, work calendars) as JSON, each province's own under its code
    and every province's under `*` (`HNTH_WEBHOOK_URLS='{"tuyen-quang": ["https://..."]}'`),
    or a list: every province's."""
    webhook_secret: SecretStr | None = None
    """Signs webhook bodies (HMAC-SHA256); required when there are subscribers."""
    webhook_timeout_seconds: float = 10.0
    public_base_url: str = "http://127.0.0.1:8003"
    """Where recipients reach this service: the acknowledgement links point here."""
    console_url: str = "http://127.0.0.1:8080"
    """Where people sign in to the console (HNTH_CONSOLE_URL, as registration's): a notice
    asking for a report links to the page it is handed in on."""
    link_secret: SecretStr = Field(min_length=32)
    """Signs acknowledgement links (HMAC); notification's own, shared with no service."""
    delivery_poll_seconds: float = 1.0
    delivery_handed_seconds: float = Field(default=15.0, ge=0)
    """How long a notice just stored is left to this replica's sender (which has it in
    hand) before other replicas' queue polls see it; after a crash, the delay before
    another replica sends it."""
    technician_list_window_seconds: float = Field(default=300.0, gt=0)
    """Directory changes within one such window send technicians one updated list."""
    delivery_max_attempts: int = Field(default=10, ge=1)
    delivery_backoff_seconds: float = Field(default=5.0, gt=0)
    delivery_max_backoff_seconds: float = Field(default=1800.0, gt=0)
    delivery_lease_seconds: float = Field(default=60.0, gt=0)
    """How long a sender holds a notice: longer than a group of them takes at the worst
    (every delivery running to its channel's timeout; checked at start)."""
    delivery_group: int = Field(default=24, ge=1)
    """Notices a sender claims, reads and records together."""
    delivery_concurrency: int = Field(default=8, ge=1)
    """Deliveries a sender makes at once (SMTP connections it keeps, at most)."""

    @model_validator(mode="after")
    def _webhooks_are_signed(self) -> Self:
        if Webhooks.of_setting(self.webhook_urls) and self.webhook_secret is None:
            raise ValueError("HNTH_WEBHOOK_SECRET is required when HNTH_WEBHOOK_URLS is set")
        return self

    @model_validator(mode="after")
    def _groups_end_inside_the_lease(self) -> Self:
        """A group outliving its claims could be sent by a second replica meanwhile."""
        rounds = -(-self.delivery_group // self.delivery_concurrency)
        slowest = max(
            self.smtp_timeout_seconds,
            self.webhook_timeout_seconds,
            self.smpp_timeout_seconds + self.smpp_receipt_wait_seconds if self.smpp_host else 0,
        )
        if rounds * slowest >= self.delivery_lease_seconds:
            raise ValueError(
                f"HNTH_DELIVERY_LEASE_SECONDS ({self.delivery_lease_seconds:g}) must exceed "
                f"a group's worst time: {rounds} rounds of HNTH_DELIVERY_CONCURRENCY "
                f"deliveries (HNTH_DELIVERY_GROUP / HNTH_DELIVERY_CONCURRENCY) of up to "
                f"{slowest:g} s each; lower the group or raise the lease"
            )
        return self

    def delivery(self) -> DeliveryConfig:
        return DeliveryConfig(
            sender=self.smtp_sender,
            public_base_url=self.public_base_url,
            console_url=self.console_url,
            ack_secret=self.link_secret.get_secret_value().encode(),
            webhook_secret=(self.webhook_secret or SecretStr("")).get_secret_value().encode(),
            max_attempts=self.delivery_max_attempts,
            backoff=timedelta(seconds=self.delivery_backoff_seconds),
            max_backoff=timedelta(seconds=self.delivery_max_backoff_seconds),
            lease=timedelta(seconds=self.delivery_lease_seconds),
            poll_seconds=self.delivery_poll_seconds,
            group=self.delivery_group,
            concurrency=self.delivery_concurrency,
        )

    def smpp(self) -> SmppConfig | None:
        if not self.smpp_host:
            return None
        return SmppConfig(
            host=self.smpp_host,
            port=self.smpp_port,
            system_id=self.smpp_system_id,
            password=self.smpp_password.get_secret_value() if self.smpp_password else "",
            source=self.smpp_source,
            timeout=self.smpp_timeout_seconds,
            receipt_wait=self.smpp_receipt_wait_seconds,
        )

    def smtp(self) -> SmtpConfig:
        return SmtpConfig(
            host=self.smtp_host,
            port=self.smtp_port,
            tls=self.smtp_tls,
            username=self.smtp_username,
            password=self.smtp_password.get_secret_value() if self.smtp_password else None,
            timeout=self.smtp_timeout_seconds,
        )


async def _close_all(poster: WebhookPoster, mailer: Mailer) -> None:
    """The sender's channels, closed when it stops."""
    await poster.close()
    await mailer.close()


def build(settings: NotificationSettings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or NotificationSettings()  # type: ignore[call-arg]
    topics = settings.topics
    service = Service(
        settings,
        title="HNTH Ops: thông báo / notification",
        description="Thông báo bằng văn bản cho các bên / written notices to every party",
        inputs=[topics.slots, topics.meetings, topics.checks, topics.reports, topics.directory],
        outputs=Outputs({topics.notices: (NoticeDelivered, NoticeAcknowledged)}),
        outbox_collections=[OUTCOMES, ACKS, NOTICES],  # notices: events older code staged
        timers=True,
        clock=clock,
    )
    store = NotificationStore(
        service.db, topics, handed_for=timedelta(seconds=settings.delivery_handed_seconds)
    )
    delivery = settings.delivery()
    doorbell = Doorbell()  # rung with the notices just stored: the sender sends them at once
    poster = WebhookPoster(settings.webhook_timeout_seconds)
    smpp = settings.smpp()
    mailer = Mailer(settings.smtp())
    sending = Delivery(
        store,
        service.clock,
        service.policy_for,
        mailer,
        poster,
        delivery,
        wake=doorbell.ring,
        sms=SmsSender(smpp) if smpp else None,
        publish=service.publish_staged,
    )
    dispatcher = Dispatcher(
        sending,
        doorbell,
        close=lambda: _close_all(poster, mailer),
        attempts=Counter(
            "hnth_notices",
            "Notice delivery attempts by kind and resulting status (sent, failed, pending=retry)",
            ["kind", "status"],
            registry=service.metrics.registry,
        ),
    )
    notifications = Notifications(
        store,
        service.timers,
        service.clock,
        service.policy_for,
        webhooks=Webhooks.of_setting(settings.webhook_urls),
        wake=doorbell.ring,
        ack_secret=delivery.ack_secret,
        list_window=timedelta(seconds=settings.technician_list_window_seconds),
        sms_on=smpp is not None,
    )
    service.on_startup(store.setup)
    service.handle(build_handlers(notifications))
    service.prefetch(batch_reads.by_meeting(READ_MEETINGS, store.prefetch_meetings))
    service.on_timer(build_timer_handlers(notifications))
    service.background("sender", dispatcher.run)
    service.api.state.notifications = notifications
    service.include(notices.router)
    service.include(acks.router)
    # a merged province's notices, meetings and directory copy move under the province
    # it joined (`hnth_kit.tenants`)
    service.tenants.moves(
        {
            name: REFERENCES
            for name in (
                "notices",
                "notice_claims",
                "notice_queue",
                "meetings",
                "cancellations",
                "checks",
                "acknowledgements",
                "reports_submitted",
            )
        }
        | {"directory": DIRECTORY_COPY}
    )
    return service
