"""Our Message-IDs and reply routes are recognised, verified, and cannot be forged."""

from ticketdesk.config import Settings
from ticketdesk.mail import signing
from ticketdesk.mail.config import MailConfig, mail_config


def config(**changes: str) -> MailConfig:
    base = {"secret_key": "k" * 40, "mail_from": "Help <help@example.com>"}
    return mail_config(Settings(**(base | changes)))  # type: ignore[arg-type]


def test_message_id_verifies_and_names_ticket_and_mail() -> None:
    mail = config()
    value = signing.message_id(mail, 42, 7)
    assert value.startswith("<tkt.42.7.") and value.endswith("@example.com>")
    assert signing.verify_message_id(mail, value) == (42, 7)
    assert signing.verify_message_id(mail, value.upper().replace("@EXAMPLE.COM", "@example.com"))


def test_a_changed_number_or_another_key_or_domain_does_not_verify() -> None:
    mail = config()
    value = signing.message_id(mail, 42, 7)
    assert signing.verify_message_id(mail, value.replace("tkt.42.", "tkt.43.")) is None
    assert signing.verify_message_id(config(secret_key="x" * 40), value) is None
    assert signing.verify_message_id(config(mail_domain="other.example"), value) is None
    assert signing.verify_message_id(mail, "<CAF=abc@mail.gmail.com>") is None


def test_mail_domain_setting_names_the_right_hand_side() -> None:
    assert signing.message_id(config(mail_domain="mx.example.net"), 1, 2).endswith(
        "@mx.example.net>"
    )


def test_reply_route_is_a_plus_address_that_verifies() -> None:
    mail = config()
    route = signing.reply_route(mail, 42)
    assert route.startswith("help+t42.") and route.endswith("@example.com")
    assert signing.verify_route(mail, route) == 42
    assert signing.verify_route(mail, route.upper()) == 42
    assert signing.verify_route(mail, route.replace("+t42.", "+t41.")) is None
    assert signing.verify_route(mail, "help@example.com") is None
    assert signing.verify_route(config(secret_key="x" * 40), route) is None


def test_ticket_ids_come_from_verified_ids_only() -> None:
    mail = config()
    headers = [
        signing.message_id(mail, 5, 9),
        f"<tkt.6.1.aaaaaaaaaaaaaaaa@example.com> {signing.thread_root(mail, 3)}",
    ]
    assert signing.find_ticket_ids(mail, headers) == [3, 5]
