"""Console settings from the environment (`HNTH_` prefix)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from hnth_kit.auth import PublicKeys, RemoteKeys, StaticKeys


class ConsoleSettings(BaseSettings):
    """Where the services answer, and where their public keys are.

    The console reads no database: every page is built from the services' HTTP APIs,
    called with the signed-in person's own token, so each service enforces its own rules.
    """

    model_config = SettingsConfigDict(env_prefix="HNTH_", extra="ignore")

    registration_url: str = "http://127.0.0.1:8001"
    notification_url: str = "http://127.0.0.1:8003"
    inspection_url: str = "http://127.0.0.1:8004"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    """For the dead-letter page (the `.dlq` topics have no HTTP API)."""
    topic_prefix: str = ""
    auth_jwks_url: str | None = None
    """Registration's public keys (`…/.well-known/jwks.json`): the console checks a token
    as every service does, with no secret of its own."""
    auth_jwks: str | None = None
    """The public keys inline, as JWKS JSON (tests)."""

    def public_keys(self) -> PublicKeys:
        if self.auth_jwks is not None:
            return StaticKeys(json.loads(self.auth_jwks))
        return RemoteKeys(self.auth_jwks_url or f"{self.registration_url}/.well-known/jwks.json")

    policy_dir: Path
    """`HNTH_POLICY_DIR` (required), as for the services."""
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    board_refresh_seconds: int = Field(default=30, ge=5)
    board_warn_minutes: int = Field(default=30, ge=1)
    """How close to its check deadline a meeting turns red while an endpoint has nothing in."""
    secure_cookies: bool = False
    """Set behind HTTPS so the token cookie is never sent in clear."""
    log_level: str = "INFO"
