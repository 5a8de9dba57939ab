"""Notification text from the templates, and the MIME message built from a stored outbox row.

The message is a function of the row alone (the Date is the row's creation time, the MIME
boundary derives from the Message-ID), so a resend is byte for byte the first send.
"""

import hashlib
from dataclasses import dataclass
from email.charset import QP, Charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import compat32
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ticketdesk.mail.config import MailConfig
from ticketdesk.mail.models import OutboundEmail

WIRE = compat32.clone(linesep="\r\n")
UTF8 = Charset("utf-8")
UTF8.body_encoding = QP
REPLY_MARKER = "##- Please type your reply above this line -##"

KINDS = (
    "ticket_received",
    "staff_reply",
    "status_changed",
    "customer_reply",
    "ticket_assigned",
    "new_ticket",
    "sla_breach",
    "password_reset",
)

_environment = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=False,
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(kind: str, context: dict[str, Any]) -> Rendered:
    subject = _environment.get_template(f"{kind}.subject.txt").render(context)
    # One line, and within what the outbox column holds.
    subject = " ".join(subject.split())[:300]
    context = {"subject": subject, **context}
    text = _environment.get_template(f"{kind}.txt").render(context)
    html = _environment.get_template(f"{kind}.html").render(context)
    return Rendered(subject, text, html)


def build_message(config: MailConfig, row: OutboundEmail) -> bytes:
    """The message as sent. The classic (compat32) MIME classes: several times quicker than
    `EmailMessage`, which parses every header it is given."""
    assert row.message_id is not None
    digest = hashlib.sha256(row.message_id.encode()).hexdigest()[:24]
    message = MIMEMultipart("alternative", boundary=f"=_td_{digest}", policy=WIRE)
    message["From"] = formataddr((config.from_name, config.from_addr), charset="utf-8")
    message["To"] = formataddr((row.to_name, row.to_addr), charset="utf-8")
    if row.subject.isascii():
        message["Subject"] = row.subject
    else:
        message["Subject"] = Header(row.subject, "utf-8")  # type: ignore[assignment]
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = row.message_id
    for name, value in row.headers.items():
        message[name] = value
    message.attach(_text_part(row.body_text, "plain"))
    message.attach(_text_part(row.body_html, "html"))
    return message.as_bytes(policy=WIRE)


def _text_part(text: str, subtype: str) -> MIMENonMultipart:
    """UTF-8 text, quoted-printable: readable in the raw mail."""
    part = MIMENonMultipart("text", subtype, policy=WIRE)
    part.set_payload(text, UTF8)
    return part
