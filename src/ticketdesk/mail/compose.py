"""Notification text from the templates, and the MIME message built from a stored outbox row.

The message is a function of the row alone (the Date is the row's creation time, the MIME
boundary derives from the Message-ID), so a resend is byte for byte the first send.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from email import encoders
from email.charset import QP, Charset
from email.header import Header
from email.mime.base import MIMEBase
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
# Files of a mail are attached while their total stays within this; the others are linked.
ATTACH_LIMIT_BYTES = 10 * 1024 * 1024

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
    # The templates ship with the package: not looked at on disk again for every mail.
    auto_reload=False,
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


def split_files(files: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(attached, linked): in mail order, each file is attached while the total of the
    attached ones stays within ATTACH_LIMIT_BYTES; a file that would pass it is linked."""
    attached, linked, total = [], [], 0
    for file in files:
        if total + int(file["size"]) <= ATTACH_LIMIT_BYTES:
            attached.append(file)
            total += int(file["size"])
        else:
            linked.append(file)
    return attached, linked


def build_message(
    config: MailConfig, row: OutboundEmail, contents: Mapping[str, bytes] | None = None
) -> bytes:
    """The message as sent. The classic (compat32) MIME classes: several times quicker than
    `EmailMessage`, which parses every header it is given.

    `contents`: the bytes of the row's attached files by SHA-256; a file whose bytes are
    missing (deleted since the mail was written) is listed without them."""
    assert row.message_id is not None
    digest = hashlib.sha256(row.message_id.encode()).hexdigest()[:24]
    attached, linked = split_files(row.attachments or [])
    contents = contents or {}
    present = [f for f in attached if f["sha256"] in contents]
    body = MIMEMultipart("alternative", boundary=f"=_td_{digest}", policy=WIRE)
    text, html = row.body_text, row.body_html
    if attached or linked:
        context = {"attached": attached, "linked": linked, "present": present}
        text += _environment.get_template("files.txt").render(context)
        section = _environment.get_template("files.html").render(context)
        html = (
            html.replace("</body>", section + "</body>", 1) if "</body>" in html else html + section
        )
    body.attach(_text_part(text, "plain"))
    body.attach(_text_part(html, "html"))
    message = body
    if present:
        message = MIMEMultipart("mixed", boundary=f"=_td_m_{digest}", policy=WIRE)
        message.attach(body)
        for file in present:
            message.attach(_file_part(file, contents[file["sha256"]]))
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
    return message.as_bytes(policy=WIRE)


def _file_part(file: dict[str, Any], data: bytes) -> MIMEBase:
    """A file as an attachment: base64, its stored (sniffed) type, its name RFC 2231-encoded."""
    main, _, sub = str(file["content_type"]).partition("/")
    part = MIMEBase(main or "application", sub or "octet-stream", policy=WIRE)
    part.set_payload(data)
    encoders.encode_base64(part)
    name = str(file["filename"])
    if name.isascii():
        part.add_header("Content-Disposition", "attachment", filename=name)
    else:
        part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", name))
    return part


def _text_part(text: str, subtype: str) -> MIMENonMultipart:
    """UTF-8 text, quoted-printable: readable in the raw mail."""
    part = MIMENonMultipart("text", subtype, policy=WIRE)
    part.set_payload(text, UTF8)
    return part
