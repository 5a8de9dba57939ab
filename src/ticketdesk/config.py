"""Settings from the environment (`TICKETDESK_*`), read once per process."""

import contextlib
import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ticketdesk"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TICKETDESK_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    # Default: $XDG_DATA_HOME/ticketdesk (~/.local/share/ticketdesk), whatever the working
    # directory; a relative setting is made absolute once, at start. The log names the database.
    data_dir: Path = Field(default_factory=_default_data_dir)
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
    # --- Production operation (README "Running it in production") ---
    # Statement, connect and pool-wait timeout of database work, in seconds.
    db_timeout_seconds: float = 10.0
    # JSON (non-multipart) request bodies above this size are refused with 413.
    max_body_kb: int = 1024
    # Requests per minute per user or token, counted across processes (0: no limit).
    rate_limit_per_minute: int = 600
    # Absolute links (Link headers) start with this, e.g. https://help.example.com; empty:
    # links are relative (never built from the request's Host header).
    public_url: str = ""
    log_format: str = "auto"  # json | text | auto (text on a terminal, else JSON)
    log_level: str = "INFO"
    access_log: bool = True
    # Proxies whose X-Forwarded-For/-Proto are trusted (comma-separated IPs or networks).
    forwarded_allow_ips: str = "127.0.0.1"
    metrics: bool = False
    metrics_allow_ips: str = "127.0.0.1,::1"
    ready_max_job_lag_seconds: float = 600.0
    redis_url: str = ""
    # Ticket lists count at most this many matches for X-Total-Count (0: always exact).
    list_count_limit: int = 10_000

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().absolute()

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
