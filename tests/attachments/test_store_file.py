"""`store_file`: one file from outside a request (inbound mail), under the upload rules."""

import pytest

from tests.factories import API, count_rows, in_db, make_ticket, post_comment
from ticketdesk.attachments import service as attachments
from ticketdesk.attachments.models import Attachment
from ticketdesk.attachments.upload import PayloadTooLarge, UnsupportedFile
from ticketdesk.auth.models import User
from ticketdesk.comments.models import TicketComment
from ticketdesk.tickets.models import Ticket


def store(client, user_id, ticket_id, name, data, *, comment_id=None, **options):
    settings = client.app.state.settings

    async def work(session):
        actor = await session.get(User, user_id)
        ticket = await session.get(Ticket, ticket_id)
        comment = await session.get(TicketComment, comment_id) if comment_id else None

        async def chunks():
            for start in range(0, len(data), 1000):
                yield data[start : start + 1000]

        row = await attachments.store_file(
            session, actor, ticket, filename=name, data=chunks(), settings=settings,
            comment=comment, **options,
        )  # fmt: skip
        return row.public_id, row.content_type, row.is_internal

    return in_db(client, work)


def test_a_mail_attachment_becomes_an_attachment(client, people, store_kind):
    owner, agent = people["individual"], people["agent"]
    tid = make_ticket(client, owner)["id"]
    note = post_comment(client, agent, tid, "inbound", is_internal=True)["id"]
    public_id, content_type, internal = store(
        client, owner.id, tid, 'scan "1".pdf', b"%PDF-1.4\n" + b"x" * 5000,
        declared_type="application/pdf",
    )  # fmt: skip
    assert (content_type, internal) == ("application/pdf", False)
    got = client.get(f"{API}/attachments/{public_id}/content", headers=owner.headers)
    assert got.content.startswith(b"%PDF-1.4")
    assert (
        client.get(f"{API}/attachments/{public_id}", headers=owner.headers).json()["filename"]
        == 'scan "1".pdf'
    )
    _, _, on_note = store(client, agent.id, tid, "n.txt", b"note file", comment_id=note)
    assert on_note is True


@pytest.mark.upload_settings(max_upload_mb=0.01)
def test_store_file_keeps_the_limits(client, people):
    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    with pytest.raises(PayloadTooLarge):
        store(client, owner.id, tid, "big.bin", b"x" * 20_000)
    with pytest.raises(UnsupportedFile):
        store(client, owner.id, tid, "run.exe", b"MZ")
    assert count_rows(client, Attachment) == 0
