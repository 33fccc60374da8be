"""How a service's consumer polls and fetches comes from its settings."""

from __future__ import annotations

from hnth_kit.service import consumer_options
from hnth_kit.settings import REPO_ROOT, ServiceSettings


def _settings(**overrides: int) -> ServiceSettings:
    return ServiceSettings(
        service_name="options",
        kafka_bootstrap_servers="127.0.0.1:9092",
        mongodb_url="mongodb://127.0.0.1:27017",
        policy_dir=REPO_ROOT / "policies",
        **overrides,
    )


def test_the_consumer_polls_and_fetches_as_the_settings_say() -> None:
    options = consumer_options(
        _settings(
            consume_batch_max=25,
            consume_batch_wait_ms=7,
            consume_fetch_wait_ms=30,
            consume_fetch_min_bytes=512,
        )
    )
    assert options == {
        "max_records": 25,
        "batch_timeout_ms": 7,
        "fetch_max_wait_ms": 30,
        "fetch_min_bytes": 512,
    }
