"""The sender's settings refuse a group that could outlive its claims."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from hnth_kit.service import consumer_options
from notification.app import NotificationSettings
from notification.domain.notices import Webhooks

REQUIRED: dict[str, Any] = {"link_secret": "x" * 32, "auth_jwks": '{"keys": []}'}


def test_the_defaults_end_a_group_inside_the_lease() -> None:
    settings = NotificationSettings(**REQUIRED)
    config = settings.delivery()
    assert (config.group, config.concurrency) == (24, 8)
    assert config.lease.total_seconds() == 60


def test_a_group_that_could_outlive_its_claims_is_refused_at_start() -> None:
    """Three rounds of 8 deliveries at a 30 s SMTP timeout may take 90 s: a 60 s lease
    would run out mid-group and a second replica could send the same notices."""
    with pytest.raises(ValidationError, match="HNTH_DELIVERY_LEASE_SECONDS"):
        NotificationSettings(**REQUIRED, smtp_timeout_seconds=30)
    allowed = NotificationSettings(**REQUIRED, smtp_timeout_seconds=30, delivery_group=8)
    assert allowed.delivery().group == 8


def test_an_sms_gateways_timeout_and_receipt_wait_count_only_when_one_is_configured() -> None:
    slow = {"smpp_timeout_seconds": 20, "smpp_receipt_wait_seconds": 5}
    assert NotificationSettings(**REQUIRED, **slow).delivery().group == 24, "SMS is off"
    with pytest.raises(ValidationError, match="HNTH_DELIVERY_LEASE_SECONDS"):
        NotificationSettings(**REQUIRED, **slow, smpp_host="smsc.example.vn")


def test_its_fetches_gather_events_where_scheduling_answers_at_once() -> None:
    """The back office asks the broker for 32 KiB or the fetch wait, whichever comes
    first: fewer, bigger batches on the cores decisions run on."""
    options = consumer_options(NotificationSettings(**REQUIRED))
    assert options["fetch_min_bytes"] == 32 * 1024
    assert options["fetch_max_wait_ms"] == 100, "a quiet topic still answers within 100 ms"


@pytest.mark.parametrize(
    ("value", "tuyen_quang", "lao_cai"),
    [
        ('["https://all.example/h"]', ("https://all.example/h",), ("https://all.example/h",)),
        (
            '{"tuyen-quang": ["https://tq.example/h"], "*": ["https://all.example/h"]}',
            ("https://all.example/h", "https://tq.example/h"),
            ("https://all.example/h",),
        ),
    ],
)
def test_webhooks_are_listed_for_every_province_or_by_province(
    monkeypatch: pytest.MonkeyPatch, value: str, tuyen_quang: tuple, lao_cai: tuple
) -> None:
    monkeypatch.setenv("HNTH_WEBHOOK_URLS", value)
    monkeypatch.setenv("HNTH_WEBHOOK_SECRET", "signing-secret")
    webhooks = Webhooks.of_setting(NotificationSettings(**REQUIRED).webhook_urls)
    assert (webhooks.of("tuyen-quang"), webhooks.of("lao-cai")) == (tuyen_quang, lao_cai)
    monkeypatch.delenv("HNTH_WEBHOOK_SECRET")
    with pytest.raises(ValidationError, match="HNTH_WEBHOOK_SECRET"):
        NotificationSettings(**REQUIRED)
