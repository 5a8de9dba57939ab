"""Mail tests: a real SMTP server (aiosmtpd) on a free port, and the corpus of received mails."""

import asyncio
import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from tests.factories import API, in_db, run_jobs
from tests.servers import free_port
from ticketdesk.config import Settings
from ticketdesk.mail.models import InboundEmail
from ticketdesk.main import create_app

CORPUS = Path(__file__).parent / "corpus"


@dataclass
class Delivery:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class SinkHandler:
    """Answers each recipient by its local part: `temp...` 451, `gone...` 550 5.1.1, else 250."""

    deliveries: list[Delivery] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        local = address.partition("@")[0].lower()
        if local.startswith("temp"):
            return "451 4.3.0 Mailbox temporarily unavailable"
        if local.startswith("gone"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.deliveries.append(
            Delivery(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
        )
        return "250 2.0.0 Message accepted"

    def to(self, address: str) -> list[Delivery]:
        return [d for d in self.deliveries if address in d.recipients]


@dataclass
class SMTPSink:
    handler: SinkHandler
    port: int

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def deliveries(self) -> list[Delivery]:
        return self.handler.deliveries


@pytest.fixture
def smtp_sink() -> Iterator[SMTPSink]:
    handler = SinkHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SMTPSink(handler, port)
    finally:
        controller.stop()


@pytest.fixture
def mail_settings(settings: Settings, smtp_sink: SMTPSink) -> Settings:
    return settings.model_copy(
        update={
            "smtp_url": smtp_sink.url,
            "mail_from": "Example Support <support@example.com>",
            "public_url": "https://help.example.com",
            "mail_retry_seconds": "60,300",
        }
    )


@pytest.fixture
def mail_client(mail_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(mail_settings)) as test_client:
        yield test_client


def corpus(name: str, **values: str) -> bytes:
    """A corpus mail with its {{PLACEHOLDERS}} filled in (ticket numbers, our Message-IDs)."""
    raw = (CORPUS / name).read_bytes()
    for key, value in values.items():
        raw = raw.replace(f"{{{{{key}}}}}".encode(), value.encode())
    return raw


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


# --- IMAP: Debian's dovecot, started for the tests on a free port ---------------------------

DOVECOT = shutil.which("dovecot") or (
    "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
)
IMAP_USER, IMAP_PASSWORD = "support@example.com", "imap-test-password"


@dataclass
class IMAPServer:
    port: int

    @property
    def url(self) -> str:
        return f"imap://{IMAP_USER.replace('@', '%40')}:{IMAP_PASSWORD}@127.0.0.1:{self.port}/INBOX"

    def connect(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port)
        client.login(IMAP_USER, IMAP_PASSWORD)
        client.select("INBOX")
        return client

    def append(self, raw: bytes) -> None:
        client = self.connect()
        try:
            client.append("INBOX", "", None, raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        finally:
            client.logout()

    def flags(self) -> list[bool]:
        """Per message in the mailbox, oldest first: whether it is \\Seen."""
        client = self.connect()
        try:
            _, data = client.fetch("1:*", "(FLAGS)")
        finally:
            client.logout()
        return [b"\\Seen" in item for item in data if isinstance(item, bytes)]


def _dovecot_config(root: Path, port: int) -> str:
    if os.geteuid() == 0:
        # Dovecot runs mail processes as an unprivileged user: nobody's, here.
        uid, gid = pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("nobody").pw_gid
        users = ""
    else:
        uid, gid = os.getuid(), os.getgid()
        me = pwd.getpwuid(uid).pw_name
        users = f"default_internal_user = {me}\ndefault_login_user = {me}\n"
    return f"""{users}base_dir = {root}/run
state_dir = {root}/state
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {root}/dovecot.log
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@pytest.fixture
def imap_server(dovecot: IMAPServer) -> IMAPServer:
    """The module's dovecot with its mailbox emptied (by the test, never by the service)."""
    client = dovecot.connect()
    try:
        _, count = client.select("INBOX")
        if count and count[0] != b"0":
            client.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
            client.expunge()
    finally:
        client.logout()
    return dovecot


@pytest.fixture(scope="module")
def dovecot() -> Iterator[IMAPServer]:
    """A dovecot with one mailbox. Without dovecot: a loud skip (a failure in CI)."""
    if DOVECOT is None:
        message = "dovecot is not installed (apt-get install -y dovecot-imapd): IMAP tests SKIPPED"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(f"*** {message} ***")
    root = Path(tempfile.mkdtemp(prefix="ticketdesk-dovecot-"))
    root.chmod(0o755)
    for folder in ("run", "state", "home"):
        (root / folder).mkdir()
    (root / "home").chmod(0o777)
    (root / "passwd").write_text(f"{IMAP_USER}:{{PLAIN}}{IMAP_PASSWORD}::::::\n")
    port = free_port()
    (root / "dovecot.conf").write_text(_dovecot_config(root, port))
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server = IMAPServer(port)
    try:
        _wait_for_login(server, process, root)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


def _wait_for_login(server: IMAPServer, process: subprocess.Popen[bytes], root: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            server.connect().logout()
            return
        except (OSError, imaplib.IMAP4.error) as error:
            if process.poll() is not None or time.monotonic() > deadline:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                pytest.fail(f"dovecot did not start: {error}\n{log}")
            time.sleep(0.2)


# --- Inbound helpers ---------------------------------------------------------------------


def post_mail(client: TestClient, admin: Any, raw: bytes) -> dict[str, Any]:
    """POST /mail/inbound as the super_admin; insists on 202."""
    response = client.post(
        f"{API}/mail/inbound",
        content=raw,
        headers={**admin.headers, "Content-Type": "message/rfc822"},
    )
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


def process_mail(client: TestClient) -> None:
    """Runs the queued jobs, as the worker does: stored mail is processed (and, with an SMTP
    server configured, the outbox sent)."""
    run_jobs(client)


def inbound_row(client: TestClient, inbound_id: int) -> InboundEmail:
    return in_db(client, lambda s: s.get(InboundEmail, inbound_id))  # type: ignore[no-any-return]
