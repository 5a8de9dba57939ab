"""`ticketdesk mailgate` hands a piped mail to a running server: exit 0 only once stored, 75
when the MTA should try again later, 65 when the mail is refused for good."""

import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.factories import count_rows, make_user
from tests.mail.conftest import corpus, free_port
from tests.tickets.test_numbering_race import server  # noqa: F401  (the real server fixture)
from ticketdesk.mail.mailgate import EX_DATAERR, EX_OK, EX_TEMPFAIL, deliver
from ticketdesk.mail.models import InboundEmail

TICKETDESK = str(Path(sys.executable).with_name("ticketdesk"))
RAW = corpus("new_request.eml", FROM="dana@example.org", MSGID="gate-1@example.org")


def mailgate(url: str, token: str, raw: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [TICKETDESK, "mailgate", "--url", url, "--token", token],
        input=raw,
        capture_output=True,
        timeout=60,
    )


@pytest.mark.server
def test_mailgate_exit_status_follows_what_the_server_did(
    client: TestClient,
    server: str,  # noqa: F811
) -> None:
    admin = make_user(client, "super_admin")
    stored = mailgate(server, admin.token, RAW)
    assert stored.returncode == 0, stored.stderr
    assert count_rows(client, InboundEmail) == 1
    # The MTA delivering it again (it retried after a timeout) stores nothing new.
    assert deliver(server, admin.token, RAW)[0] == EX_OK
    assert count_rows(client, InboundEmail) == 1
    # A wrong token is a setup problem: the MTA keeps the mail and tries again later.
    status, message = deliver(server, "not-a-token", RAW)
    assert status == EX_TEMPFAIL and "401" in message
    customer = make_user(client, "individual")
    assert deliver(server, customer.token, RAW)[0] == EX_TEMPFAIL
    # Not a mail at all is refused for good.
    assert deliver(server, admin.token, b"")[0] == EX_DATAERR
    assert deliver(server, admin.token, b"  ")[0] == EX_DATAERR


def test_mailgate_keeps_the_mail_queued_when_the_server_is_down() -> None:
    status, message = deliver(f"http://127.0.0.1:{free_port()}", "token", RAW)
    assert status == EX_TEMPFAIL and "cannot reach" in message
