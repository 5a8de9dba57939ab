"""Reading received mail: automatic-mail signals, text from every style of client, quotes cut,
charsets decoded, HTML sanitised, delivery reports read."""

import pytest

from tests.mail.conftest import corpus
from ticketdesk.mail import parsing

THREAD = {
    "FROM": "dana@example.org",
    "TO": "support@example.com",
    "SUBJECT": "[TKT-20250106-0001] Printer on floor 3 is jammed",
    "IN_REPLY_TO": "<tkt.1.1.aaaaaaaaaaaaaaaa@example.com>",
    "REFERENCES": "<tkt.1.0.aaaaaaaaaaaaaaaa@example.com>",
    "MSGID": "m1",
    "RECIPIENT": "gone@example.net",
    "ORIGINAL": "<tkt.1.1.aaaaaaaaaaaaaaaa@example.com>",
}


def message(name: str) -> parsing.EmailMessage:
    return parsing.parse(corpus(name, **THREAD))


@pytest.mark.parametrize(
    "name",
    ["new_request.eml", "gmail_reply.eml", "outlook_reply.eml", "apple_reply.eml", "latin1.eml"],
)
def test_mail_written_by_a_person_is_not_automatic(name: str) -> None:
    assert parsing.automatic_reason(message(name)) is None


@pytest.mark.parametrize(
    ("name", "signal"),
    [
        ("out_of_office.eml", "Auto-Submitted"),
        ("postfix_bounce.eml", "Auto-Submitted"),
        ("exchange_bounce.eml", "postmaster"),
    ],
)
def test_automatic_mail_is_recognised(name: str, signal: str) -> None:
    reason = parsing.automatic_reason(message(name))
    assert reason is not None and signal in reason


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Auto-Submitted", "auto-generated"),
        ("Precedence", "bulk"),
        ("Precedence", "junk"),
        ("Precedence", "list"),
        ("Precedence", "auto_reply"),
        ("X-Autoreply", "yes"),
        ("X-Autorespond", "Out of office"),
        ("List-Id", "<announce.example.org>"),
        ("Return-Path", "<>"),
    ],
)
def test_every_automatic_signal_of_the_contract(header: str, value: str) -> None:
    raw = corpus("new_request.eml", FROM="dana@example.org", MSGID="x@example.org")
    raw = raw.replace(b"Return-Path: <dana@example.org>\n", b"")
    marked = f"{header}: {value}\n".encode() + raw
    assert parsing.automatic_reason(parsing.parse(marked)) is not None
    assert parsing.automatic_reason(parsing.parse(raw)) is None


def test_auto_submitted_no_is_a_person() -> None:
    raw = b"Auto-Submitted: no\n" + corpus("new_request.eml", FROM="a@example.org", MSGID="y@x")
    assert parsing.automatic_reason(parsing.parse(raw)) is None


def test_mailer_daemon_sender_is_automatic() -> None:
    raw = corpus("new_request.eml", FROM="MAILER-DAEMON@example.org", MSGID="z@x")
    assert "mailer-daemon" in (parsing.automatic_reason(parsing.parse(raw)) or "")


def test_gmail_reply_keeps_only_the_new_text() -> None:
    text = parsing.strip_quotes(parsing.body_text(message("gmail_reply.eml")))
    assert text == "Thanks, restarting it worked \u2014 the printer runs again."


def test_outlook_html_reply_in_windows_1252_keeps_only_the_new_text() -> None:
    text = parsing.strip_quotes(parsing.body_text(message("outlook_reply.eml")))
    assert text == (
        'Still broken after the caf\u00e9 break \u2013 the display says "E-17".\nRegards, Dana'
    )


def test_apple_mail_reply_keeps_only_the_new_text() -> None:
    text = parsing.strip_quotes(parsing.body_text(message("apple_reply.eml")))
    assert text == "It happened again this morning, same error.\n\nSent from my iPad"


def test_latin1_subject_sender_and_body_are_decoded() -> None:
    mail = message("latin1.eml")
    assert parsing.header(mail, "Subject") == "Rechnung f\u00fcr M\u00e4rz fehlt"
    assert parsing.sender(mail) == ("J\u00fcrgen M\u00fcller", "dana@example.org")
    assert "Mit freundlichen Gr\u00fc\u00dfen" in parsing.body_text(mail)


def test_shift_jis_and_iso_2022_jp_are_decoded() -> None:
    mail = message("shift_jis.eml")
    assert parsing.header(mail, "Subject") == "\u3053\u3093\u306b\u3061\u306f"
    assert parsing.body_text(mail) == "\u3053\u3093\u306b\u3061\u306f"


def test_html_mail_loses_scripts_styles_and_handlers() -> None:
    text = parsing.body_text(message("html_script.eml"))
    assert "Hello, my invoice INV-42 is wrong." in text
    assert "Please check & fix." in text
    for dangerous in ("alert", "script", "document.cookie", "onerror", "javascript:", "color"):
        assert dangerous not in text


def test_a_mail_without_message_id_has_none() -> None:
    assert parsing.message_id(message("no_message_id.eml")) is None
    assert parsing.message_id(message("new_request.eml")) == "<m1>"


@pytest.mark.parametrize("name", ["postfix_bounce.eml", "exchange_bounce.eml"])
def test_delivery_reports_name_the_failed_address_and_our_mail(name: str) -> None:
    mail = message(name)
    assert parsing.is_delivery_report(mail)
    bounce = parsing.read_bounce(mail)
    assert [address for address, _, _ in bounce.failed] == ["gone@example.net"]
    assert bounce.failed[0][1].startswith("5.1.1")
    assert bounce.original_ids == ["<tkt.1.1.aaaaaaaaaaaaaaaa@example.com>"]


def test_quotes_never_empty_a_mail() -> None:
    assert (
        parsing.strip_quotes("> only a quote\n> nothing else") == "> only a quote\n> nothing else"
    )


def test_our_reply_marker_cuts_what_follows() -> None:
    text = "Yes, please.\n\n##- Please type your reply above this line -##\nold text"
    assert parsing.strip_quotes(text) == "Yes, please."
