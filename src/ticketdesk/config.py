"""Settings from the environment (`TICKETDESK_*`), read once per process."""

import contextlib
import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ticketdesk.search.language import PG_LANGUAGES


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
    # Absolute links (Link headers) start with TICKETDESK_PUBLIC_URL (below) when it is set;
    # otherwise they are relative (never built from the request's Host header).
    log_format: str = "auto"  # json | text | auto (text on a terminal, else JSON)
    log_level: str = "INFO"
    access_log: bool = True
    # Proxies whose X-Forwarded-For/-Proto are trusted (comma-separated IPs or networks).
    forwarded_allow_ips: str = "127.0.0.1"
    metrics: bool = False
    metrics_allow_ips: str = "127.0.0.1,::1"
    ready_max_job_lag_seconds: float = 600.0
    # Throttles and rate limits counted in Redis instead of the database (redis://host:port/db);
    # its keys start with redis_prefix, so deployments may share one Redis.
    redis_url: str = ""
    redis_prefix: str = "ticketdesk:"
    # Ticket lists count at most this many matches for X-Total-Count (0: always exact).
    list_count_limit: int = 10_000
    # Mail (EMAIL.md): outgoing SMTP, the polled mailbox, links and addresses in mails.
    smtp_url: str = ""
    mail_from: str = "Support <support@example.com>"
    mail_domain: str = ""
    public_url: str = "http://127.0.0.1:8000"
    mail_retry_seconds: str = "60,300,1800,7200,21600"
    imap_url: str = ""
    mail_poll_seconds: float = 60.0
    mail_accept_unknown_senders: bool = True
    max_mail_mb: float = 35.0
    # Attachments (ATTACHMENTS.md): where bytes live, upload limits, optional virus scanning.
    storage_url: str = ""  # default: file://<data_dir>/attachments; or s3://bucket/prefix
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    max_upload_mb: float = 25.0  # per file
    max_upload_request_mb: float = 100.0  # a whole multipart request
    max_upload_files: int = 20
    allow_executable_uploads: bool = False
    clamd_url: str | None = None  # tcp://host:3310 or unix:///path/to/clamd.ctl
    orphan_blob_grace_minutes: float = 60.0
    # Search: the language whose stemming the index uses (`ticketdesk reindex` after a change).
    search_language: str = "english"
    # false: writes leave the index alone (bulk imports; run `ticketdesk reindex` afterwards).
    search_indexing: bool = True
    # Relevance orders this many of the newest matches; older matches follow, newest first.
    # A search reads its matches newest first until it has this many (and the count's), so
    # a word in a few percent of a million tickets costs reading ~20x this many documents.
    search_rank_window: int = Field(default=500, ge=1)
    # Searches (and custom-field filters) count at most this many matches for X-Total-Count.
    search_count_limit: int = Field(default=500, ge=1)

    @field_validator("search_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value.lower() not in PG_LANGUAGES:
            raise ValueError(f"unknown search language; one of {', '.join(sorted(PG_LANGUAGES))}")
        return value.lower()

    # Web pages (public_url above: an https one makes the session cookie Secure): how long a
    # sign-in lasts, and how often each process looks for new events to push live.
    web_session_hours: float = 168.0
    live_poll_seconds: float = 0.5

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("a Redis URL: redis://host:6379/0, rediss://... or unix://...")
        return value

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().absolute()

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

    @property
    def effective_storage_url(self) -> str:
        """The configured attachment store, or a folder in the data folder."""
        return self.storage_url or f"file://{(self.data_dir / 'attachments').resolve()}"

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
