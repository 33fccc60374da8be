"""`python -m hnth_console`: serve the operator console."""

from __future__ import annotations

import sys

import uvicorn
from pydantic import ValidationError

from hnth_console.app import build
from hnth_console.settings import ConsoleSettings
from hnth_kit.logs import setup_logging

if __name__ == "__main__":
    try:
        settings = ConsoleSettings()
    except ValidationError as exc:
        sys.exit(f"invalid or missing settings (HNTH_POLICY_DIR?): {exc}")
    setup_logging("console", settings.log_level)
    uvicorn.run(build(settings), host=settings.http_host, port=settings.http_port, log_config=None)
