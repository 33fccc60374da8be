"""Console settings from the environment (`HNTH_` prefix)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsoleSettings(BaseSettings):
    """Where the services answer, and the console's own session secret.

    The console reads no database and verifies no token: every page is built from the
    services' HTTP APIs, called with the signed-in person's own token (from registration's
    `/auth/login`, kept in the session), so each service enforces its own rules.
    """

    model_config = SettingsConfigDict(env_prefix="HNTH_", extra="ignore")

    registration_url: str = "http://127.0.0.1:8001"
    notification_url: str = "http://127.0.0.1:8003"
    inspection_url: str = "http://127.0.0.1:8004"
    scheduling_url: str = "http://127.0.0.1:8002"
    """Scheduling's free windows (`GET /availability`) for the register page."""
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    """For the dead-letter page (the `.dlq` topics have no HTTP API)."""
    topic_prefix: str = ""
    console_session_secret: SecretStr | None = None
    """`HNTH_CONSOLE_SESSION_SECRET`: encrypts the session cookie; shared by the console's
    replicas only, never by a service. Unset: a fresh one per process (sessions end with
    it)."""
    session_hours: int = Field(default=12, ge=1)
    """How long a session lasts at most (the refresh token may end it earlier)."""
    policy_dir: Path
    """`HNTH_POLICY_DIR` (required), as for the services."""
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    board_refresh_seconds: int = Field(default=30, ge=5)
    board_warn_minutes: int = Field(default=30, ge=1)
    """How close to its check deadline a meeting turns red while an endpoint has nothing in."""
    console_public_url: str | None = None
    """`HNTH_CONSOLE_PUBLIC_URL`: the console's address as people reach it (behind a proxy),
    for the SSO callback registered at the provider (`<url>/signin/sso/callback`); unset:
    the address the request came to."""
    secure_cookies: bool = False
    """Set behind HTTPS: the session cookie is then `Secure` with the `__Host-` prefix."""
    log_level: str = "INFO"
