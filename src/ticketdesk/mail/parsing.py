"""Reading a received mail: who sent it, whether a machine did, what it says, what it quotes.

Pure functions over the standard library's `email` package (and nh3 for HTML); no database.
"""

import html as html_lib
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser, HeaderParser
from email.utils import getaddresses, parseaddr

import nh3

from ticketdesk.mail.compose import REPLY_MARKER

AUTOMATIC_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
DAEMON_SENDERS = frozenset({"mailer-daemon", "postmaster"})
ROUTING_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


def parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def parse_headers(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
    assert isinstance(message, EmailMessage)
    return message


def header(message: Message, name: str) -> str:
    """A header as text; a malformed one as whatever could be read, never an exception."""
    try:
        value = message.get(name)
    except (ValueError, IndexError, LookupError):
        value = message.get_all(name, failobj=[""])[0] if hasattr(message, "get_all") else ""
    return " ".join(str(value).split()) if value is not None else ""


def message_id(message: Message) -> str | None:
    found = re.search(r"<[^<>\s]{1,250}>", header(message, "Message-ID"))
    return found.group(0) if found else None


def sender(message: Message) -> tuple[str, str]:
    """(name, lower-case address) of From; ("", "") without a usable one."""
    name, address = parseaddr(header(message, "From"))
    if "@" not in address:
        return "", ""
    return " ".join(name.split())[:200], address.strip().lower()[:320]


def references(message: Message) -> list[str]:
    return [header(message, "In-Reply-To"), header(message, "References")]


def routing_addresses(message: Message) -> list[str]:
    values = [header(message, name) for name in ROUTING_HEADERS]
    return [address.lower() for _, address in getaddresses(values) if "@" in address]


def is_delivery_report(message: Message) -> bool:
    return (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type", "")).lower() == "delivery-status"
    )


def automatic_reason(message: Message) -> str | None:
    """Why this mail was sent by a machine, or None for a mail a person wrote (EMAIL.md)."""
    auto_submitted = header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return f"automatic mail (Auto-Submitted: {auto_submitted})"
    precedence = header(message, "Precedence").lower()
    if precedence in AUTOMATIC_PRECEDENCE:
        return f"automatic mail (Precedence: {precedence})"
    for name in ("X-Autoreply", "X-Autorespond", "List-Id"):
        if message.get(name) is not None:
            return f"automatic mail ({name})"
    if message.get("Return-Path") is not None and header(message, "Return-Path") in ("<>", ""):
        return "automatic mail (empty Return-Path)"
    local = sender(message)[1].partition("@")[0]
    if local in DAEMON_SENDERS:
        return f"automatic mail (from {local})"
    if is_delivery_report(message):
        return "delivery report"
    return None


@dataclass
class Bounce:
    """What an RFC 3464 delivery report says: failed recipients and the mail it is about."""

    failed: list[tuple[str, str, str]] = field(default_factory=list)  # address, status, text
    original_ids: list[str] = field(default_factory=list)


def read_bounce(message: Message) -> Bounce:
    bounce = Bounce()
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for block in part.get_payload():
                if isinstance(block, Message):
                    _read_recipient(block, bounce)
        elif kind == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner, Message) and (found := message_id(inner)):
                bounce.original_ids.append(found)
        elif kind == "text/rfc822-headers":
            headers = HeaderParser(policy=policy.default).parsestr(_text_of(part))
            if found := message_id(headers):
                bounce.original_ids.append(found)
    return bounce


def _read_recipient(block: Message, bounce: Bounce) -> None:
    action = header(block, "Action").lower()
    recipient = header(block, "Final-Recipient") or header(block, "Original-Recipient")
    if not recipient or action not in ("failed", ""):
        return
    address = recipient.partition(";")[2].strip() or recipient
    status = header(block, "Status")
    diagnostic = header(block, "Diagnostic-Code").partition(";")[2].strip()
    bounce.failed.append((address.strip("<>").lower(), status, diagnostic or status))


def _text_of(part: Message) -> str:
    """A text part decoded by its charset; an unknown or wrong charset never loses the text."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(part.get_payload())
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset)
    except (LookupError, UnicodeDecodeError):
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            return payload.decode("cp1252", errors="replace")


def body_text(message: Message) -> str:
    """The mail's text: its text/plain part, else its HTML made into sanitised text."""
    plain = html = None
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and plain is None:
            plain = _text_of(part)
        elif kind == "text/html" and html is None:
            html = _text_of(part)
    if plain is not None and plain.strip():
        return clean_text(plain)
    return clean_text(html_to_text(html)) if html else ""


BLOCK_END = re.compile(
    r"(?i)(<\s*br\s*/?>|</\s*(p|div|li|tr|h[1-6]|blockquote|pre|table)\s*>|<\s*hr\b[^>]*>)"
)
LIST_ITEM = re.compile(r"(?i)<\s*li\b[^>]*>")


def html_to_text(html: str) -> str:
    """Text of an HTML mail: scripts and styles dropped by nh3, blocks kept as lines."""
    html = re.sub(r"\s+", " ", html)
    html = BLOCK_END.sub(lambda m: m.group(0) + "\n", html)
    html = LIST_ITEM.sub(lambda m: m.group(0) + "- ", html)
    text = nh3.clean(html, tags=set(), clean_content_tags={"script", "style", "title"})
    # HTML's own spacing means nothing: each block is a line of its words.
    return "\n".join(" ".join(line.split()) for line in html_lib.unescape(text).split("\n"))


def clean_text(text: str) -> str:
    """Storable text: no NUL or other control characters, no lone surrogates, tidy lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(c for c in text if c in "\n\t" or (ord(c) >= 32 and ord(c) != 127))
    text = text.encode("utf-8", errors="replace").decode("utf-8")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


ATTRIBUTION = re.compile(
    r"^(on|le|am|el|il|op)\s.{0,300}(wrote|a écrit|schrieb|escribió|ha scritto|schreef)\s*:\s*$",
    re.IGNORECASE,
)
ORIGINAL_MESSAGE = re.compile(r"^-{2,}\s*(original message|ursprüngliche nachricht)\s*-{2,}$", re.I)
OUTLOOK_HEADER = re.compile(r"^\*?(from|von|de)\s*:\*?\s", re.IGNORECASE)
OUTLOOK_NEXT = re.compile(r"^\*?(sent|date|gesendet|envoyé|to|subject)\s*:", re.IGNORECASE)


def strip_quotes(text: str) -> str:
    """The new part of a reply: what comes before our reply marker, an "On ... wrote:" line, an
    Outlook header block, or a closing block of "> " lines. Never empties a mail."""
    lines = text.split("\n")
    cut = len(lines)
    for index, line in enumerate(lines):
        if _starts_quote(lines, index, line.strip()):
            cut = index
            break
    kept = lines[:cut]
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()
    result = "\n".join(kept).strip()
    return result or text.strip()


def _starts_quote(lines: list[str], index: int, line: str) -> bool:
    if REPLY_MARKER in line or ORIGINAL_MESSAGE.match(line):
        return True
    joined = f"{line} {lines[index + 1].strip()}" if index + 1 < len(lines) else line
    if ATTRIBUTION.match(line) or (line.lower().startswith("on ") and ATTRIBUTION.match(joined)):
        return True
    if re.fullmatch(r"_{10,}", line) and any(
        OUTLOOK_HEADER.match(n.strip()) for n in lines[index + 1 : index + 3]
    ):
        return True
    return bool(OUTLOOK_HEADER.match(line)) and any(
        OUTLOOK_NEXT.match(n.strip()) for n in lines[index + 1 : index + 4]
    )


@dataclass(frozen=True)
class MailFile:
    """A file a mail carries: an attachment, an inline image, a forwarded mail."""

    filename: str
    declared_type: str
    data: bytes


def files(message: Message) -> list[MailFile]:
    """Every part that is not the text or HTML the mail's body is read from, in mail order.
    Inline images (`cid:` references) are files like any other; a forwarded mail is one
    `.eml` file, not opened up."""
    found: list[MailFile] = []
    for part in _leaves(message):
        name = _filename(part)
        kind = part.get_content_type()
        is_body = kind in ("text/plain", "text/html") and not name
        if is_body and part.get_content_disposition() != "attachment":
            continue
        data = _bytes_of(part)
        if data is None:
            continue
        found.append(MailFile(name or _default_name(kind, len(found) + 1), kind, data))
    return found


def _leaves(part: Message) -> list[Message]:
    if part.get_content_type() != "message/rfc822" and part.is_multipart():
        payload = part.get_payload()
        assert isinstance(payload, list)
        return [leaf for sub in payload if isinstance(sub, Message) for leaf in _leaves(sub)]
    return [part]


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except (ValueError, IndexError, LookupError):
        name = ""
    return " ".join(str(name).split())


def _bytes_of(part: Message) -> bytes | None:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        if not isinstance(inner, Message):
            return None
        try:
            return inner.as_bytes(policy=policy.SMTP)
        except (ValueError, LookupError, UnicodeError):
            return inner.as_bytes(policy=policy.compat32)
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else None


def _default_name(kind: str, number: int) -> str:
    if kind == "message/rfc822":
        return f"message-{number}.eml"
    stem = "image" if kind.startswith("image/") else "attachment"
    return f"{stem}-{number}{mimetypes.guess_extension(kind) or '.bin'}"
