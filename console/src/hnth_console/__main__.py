"""`python -m hnth_console`: serve the operator console; `python -m hnth_console
kafka-provision` makes its own Kafka principal as the admin (kafka_accounts.console_grants)."""

from __future__ import annotations

import asyncio
import sys

import uvicorn
from pydantic import ValidationError

from hnth_console.app import build
from hnth_console.settings import ConsoleSettings
from hnth_kit.dlq import ensure_resolutions_topic
from hnth_kit.kafka_access import access_of
from hnth_kit.kafka_accounts import admin_from_environment, console_grants, provision_itself
from hnth_kit.logs import setup_logging


async def provision(settings: ConsoleSettings) -> None:
    own = access_of(settings.kafka_bootstrap_servers)
    await ensure_resolutions_topic(admin_from_environment(own), settings.topic_prefix)
    await provision_itself(own, console_grants(settings.topic_prefix))


if __name__ == "__main__":
    try:
        settings = ConsoleSettings()
    except ValidationError as exc:
        sys.exit(f"invalid or missing settings (HNTH_POLICY_DIR?): {exc}")
    if sys.argv[1:] == ["kafka-provision"]:
        asyncio.run(provision(settings))
        sys.exit(0)
    if sys.argv[1:]:
        sys.exit(f"unknown command {sys.argv[1]!r}; commands: kafka-provision")
    setup_logging("console", settings.log_level)
    uvicorn.run(build(settings), host=settings.http_host, port=settings.http_port, log_config=None)
