"""Every notification renders in text and HTML, with user text escaped in the HTML part."""

import pytest

from ticketdesk.mail import compose

CONTEXT = {
    "number": "TKT-20250106-0001",
    "ticket_subject": "Printer <b>jammed</b>",
    "status": "waiting_on_customer",
    "status_label": "Waiting for your reply",
    "priority": "high",
    "recipient_name": "Dana",
    "author_name": "Agent Smith",
    "link": "https://help.example.com/portal/tickets/TKT-20250106-0001",
    "reply_marker": compose.REPLY_MARKER,
    "comment": "Try this: <script>alert(1)</script>\nthen restart.",
    "description": "It fails & stops.",
    "customer_name": "Dana",
    "breach_label": "first response",
    "minutes": 60,
}


@pytest.mark.parametrize("kind", compose.KINDS)
def test_every_kind_renders_text_and_html(kind: str) -> None:
    rendered = compose.render(kind, CONTEXT)
    assert rendered.subject and "\n" not in rendered.subject
    if kind != "password_reset":
        assert rendered.subject.startswith("[TKT-20250106-0001] ")
        assert compose.REPLY_MARKER in rendered.text
    assert CONTEXT["link"] in rendered.text and CONTEXT["link"] in rendered.html
    assert "<script>" not in rendered.html and "<b>jammed</b>" not in rendered.html
    assert rendered.html.startswith("<!DOCTYPE html>")


def test_staff_reply_carries_the_comment_verbatim_in_text_and_escaped_in_html() -> None:
    rendered = compose.render("staff_reply", CONTEXT)
    assert "Try this: <script>alert(1)</script>\nthen restart." in rendered.text
    assert "Try this: &lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert rendered.subject == "[TKT-20250106-0001] Re: Printer <b>jammed</b>"


def test_status_mail_asks_for_a_reply_when_waiting() -> None:
    rendered = compose.render("status_changed", CONTEXT)
    assert "Waiting for your reply" in rendered.subject
    assert "please reply to this mail" in rendered.text
