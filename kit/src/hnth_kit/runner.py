"""`python -m <service>`: serve the service (HTTP + consumer) or run one of its commands."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict

import uvicorn
from pydantic import ValidationError

from hnth_kit.kafka_accounts import provision_itself
from hnth_kit.logs import setup_logging
from hnth_kit.service import Service
from hnth_kit.settings import ServiceSettings

Command = Callable[[ServiceSettings, list[str]], int]


def main(
    settings_type: type[ServiceSettings],
    build: Callable[..., Service],
    commands: Mapping[str, Command] | None = None,
) -> None:
    """With no arguments serve; with `<command> ...` run that command and exit with its code;
    `kafka-grants` prints, as JSON, the Kafka ACLs this service's principal needs;
    `kafka-provision` makes that principal, as the admin (kafka_accounts.provision_itself)."""
    args = sys.argv[1:]
    try:
        settings = settings_type()
    except ValidationError as exc:
        missing = ", ".join(f"HNTH_{'_'.join(map(str, e['loc'])).upper()}" for e in exc.errors())
        sys.exit(f"invalid or missing settings: {missing}\n{exc}")
    if args == ["kafka-grants"]:  # what an admin grants this service's principal
        print(json.dumps(asdict(build(settings).kafka_grants())))
        sys.exit(0)
    if args == ["kafka-provision"]:
        asyncio.run(provision_itself(settings.kafka, build(settings).kafka_grants()))
        print(f"{settings.kafka_username}: signed up with its grants", flush=True)
        sys.exit(0)
    if args and args[0] in (commands or {}):
        sys.exit((commands or {})[args[0]](settings, args[1:]))
    if args:
        sys.exit(f"unknown command {args[0]!r}; commands: {', '.join(commands or {}) or 'none'}")
    setup_logging(settings.service_name, settings.log_level)
    os.nice(settings.cpu_nice)
    service = build(settings)
    uvicorn.run(
        service.api,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        # libuv's event loop: its transports and callbacks are C where asyncio's are
        # Python, a sixth less CPU a database command (bench/loop_bench.py)
        loop="uvloop",
    )
