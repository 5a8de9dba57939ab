"""The mail settings of `Settings`, parsed once: addresses, SMTP and IMAP endpoints, schedule."""

import hashlib
import hmac
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from ticketdesk.config import Settings, get_settings


@dataclass(frozen=True)
class Endpoint:
    """A mail server named by an `smtp://`, `smtps://`, `imap://` or `imaps://` URL."""

    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool
    starttls: bool
    path: str


DEFAULT_PORTS = {"smtp": 25, "smtps": 465, "imap": 143, "imaps": 993}


def parse_endpoint(url: str) -> Endpoint:
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not a mail server URL: {parts.scheme}://{parts.hostname or ''}")
    query = parse_qs(parts.query)
    return Endpoint(
        host=parts.hostname,
        port=parts.port or DEFAULT_PORTS[parts.scheme],
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=parts.scheme.endswith("s"),
        starttls=query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes"),
        path=unquote(parts.path.lstrip("/")) or "INBOX",
    )


@dataclass(frozen=True)
class MailConfig:
    from_name: str
    from_addr: str
    domain: str
    public_url: str
    retry_seconds: tuple[int, ...]
    key: bytes
    smtp: Endpoint | None
    imap: Endpoint | None
    accept_unknown_senders: bool
    max_bytes: int
    # The app's own signing key, for links other domains sign (the satisfaction link).
    signing_key: str = ""

    @property
    def local_part(self) -> str:
        return self.from_addr.rpartition("@")[0]

    @property
    def from_domain(self) -> str:
        return self.from_addr.rpartition("@")[2]


_active: MailConfig | None = None


def configure(settings: Settings) -> MailConfig:
    """Parse the settings and make them the process's mail settings (done by `create_app`)."""
    global _active
    _active = mail_config(settings)
    return _active


def active() -> MailConfig:
    """The process's mail settings: those of the app, else of the environment."""
    return _active or configure(get_settings())


def mail_config(settings: Settings) -> MailConfig:
    signing_key = settings.signing_key()
    name, address = parseaddr(settings.mail_from)
    address = address.lower() or "support@example.com"
    schedule = tuple(int(s) for s in settings.mail_retry_seconds.split(",") if s.strip())
    return MailConfig(
        from_name=name,
        from_addr=address,
        domain=settings.mail_domain or address.rpartition("@")[2],
        public_url=settings.public_url.rstrip("/"),
        retry_seconds=schedule or (60,),
        # A key of its own, so a mail signature can never stand in for an access token's.
        key=hmac.new(signing_key.encode(), b"ticketdesk mail v1", hashlib.sha256).digest(),
        smtp=parse_endpoint(settings.smtp_url) if settings.smtp_url else None,
        imap=parse_endpoint(settings.imap_url) if settings.imap_url else None,
        accept_unknown_senders=settings.mail_accept_unknown_senders,
        max_bytes=int(settings.max_mail_mb * 1024 * 1024),
        signing_key=signing_key,
    )
