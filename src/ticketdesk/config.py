"""Settings from the environment (`TICKETDESK_*`), read once per process."""

import contextlib
import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TICKETDESK_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    data_dir: Path = Path("data")
    database_url: str = ""
    secret_key: str = ""
    access_token_minutes: int = 60
    allow_registration: bool = True
    admin_email: str | None = None
    admin_password: str | None = None
    admin_name: str = "Administrator"
    auto_close_hours: float = 48.0
    # How often auto-close runs (seconds; 0: never).
    jobs_interval_seconds: float = 60.0
    # Throttles counted in the database, shared by every process (0 switches one off).
    login_attempts_per_minute: int = 10  # failed logins per address from one client
    login_failures_per_client_per_minute: int = 30  # failed logins per client, any address
    registrations_per_client_per_hour: int = 20

    # Events and jobs (INTEGRATIONS.md). A worker runs in every server process unless off.
    worker: bool = True
    worker_concurrency: int = 4
    worker_poll_seconds: float = 1.0
    job_lease_seconds: float = 60.0
    shutdown_seconds: float = 20.0
    sla_scan_seconds: float = 60.0
    events_retention_days: float = 30.0
    # Ticket lists count at most this many matches for X-Total-Count (0: always exact).
    list_count_limit: int = 10_000

    # Webhooks (INTEGRATIONS.md): retry waits after each failed attempt, in seconds.
    webhook_retry_seconds: str = "5,300,1800,7200,18000,36000"
    webhook_timeout_seconds: float = 10.0
    # true: URLs on loopback, private and link-local addresses are allowed (tests, closed nets).
    webhook_allow_private: bool = False
    webhook_sweep_seconds: float = 30.0
    webhook_delivery_retention_days: float = 30.0

    @field_validator("webhook_retry_seconds")
    @classmethod
    def _retry_schedule(cls, value: str) -> str:
        try:
            waits = [float(part) for part in value.split(",") if part.strip()]
        except ValueError:
            raise ValueError("a comma-separated list of seconds, e.g. 5,300,1800") from None
        if any(wait < 0 for wait in waits):
            raise ValueError("waits may not be negative")
        return value

    @property
    def webhook_retry_schedule(self) -> list[float]:
        return [float(part) for part in self.webhook_retry_seconds.split(",") if part.strip()]

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or an SQLite file in the data folder."""
        return self.database_url or f"sqlite:///{self.data_dir / 'ticketdesk.db'}"

    def signing_key(self) -> str:
        """The configured key, else one generated once and kept in the data folder.

        Several processes (`--workers`) may start at once: the key is written to a private
        temporary file and then linked into place, which fails if another process got there
        first, so every process ends up reading the one complete key that won.
        """
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            temporary = self.data_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(8)}"
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(descriptor, "w") as file:
                    file.write(secrets.token_urlsafe(48))
                with contextlib.suppress(FileExistsError):
                    os.link(temporary, path)
            finally:
                temporary.unlink()
        key = path.read_text().strip()
        if not key:
            raise RuntimeError(f"the signing key file {path} is empty")
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
