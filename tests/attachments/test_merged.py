"""A merged ticket's files show among the files of the ticket it went into (marked with its
number), for everyone who sees that ticket; internal files stay staff-only."""

from tests.attachments.conftest import PDF, PNG, upload_ok
from tests.factories import API, make_ticket


def files(client, actor, ticket_id):
    response = client.get(f"{API}/tickets/{ticket_id}/attachments", headers=actor.headers)
    assert response.status_code == 200, response.text
    return response.json()


def merge(client, actor, source, into):
    response = client.post(
        f"{API}/tickets/{source}/merge", json={"into": into}, headers=actor.headers
    )
    assert response.status_code == 200, response.text


def test_merged_files_show_in_the_target_for_whoever_sees_it(client, people):
    first, second, agent = people["individual"], people["other"], people["agent"]
    source = make_ticket(client, first)["id"]
    target = make_ticket(client, second)["id"]
    (public,) = upload_ok(client, first, source, ("screen.png", PNG))
    upload_ok(client, agent, source, ("refund.pdf", PDF), is_internal=True)
    upload_ok(client, second, target, ("own.pdf", PDF))
    merge(client, agent, source, target)

    shown = files(client, second, target)
    assert [(f["filename"], f["merged_from_number"]) for f in shown] == [
        (
            "screen.png",
            client.get(f"{API}/tickets/{source}", headers=first.headers).json()["ticket_number"],
        ),
        ("own.pdf", None),
    ]
    # The target's customer may open the merged file, though the source is not theirs.
    got = client.get(f"{API}/attachments/{public['id']}/content", headers=second.headers)
    assert got.status_code == 200 and got.content == PNG
    assert [f["filename"] for f in files(client, agent, target)] == [
        "screen.png",
        "refund.pdf",
        "own.pdf",
    ]
    ticket = client.get(f"{API}/tickets/{target}", headers=second.headers).json()
    assert ticket["attachments_count"] == 2
    assert (
        client.get(f"{API}/tickets/{target}", headers=agent.headers).json()["attachments_count"]
        == 3
    )
    # The source's own customer still sees their file on their (merged) ticket.
    assert [f["filename"] for f in files(client, first, source)] == ["screen.png"]


def test_internal_and_unrelated_files_stay_hidden_after_a_merge(client, people):
    first, second, agent = people["individual"], people["other"], people["agent"]
    outsider = people["enterprise"]
    source = make_ticket(client, first)["id"]
    target = make_ticket(client, second)["id"]
    (secret,) = upload_ok(client, agent, source, ("refund.pdf", PDF), is_internal=True)
    (public,) = upload_ok(client, first, source, ("screen.png", PNG))
    merge(client, agent, source, target)
    for who in (second, first):
        assert (
            client.get(f"{API}/attachments/{secret['id']}", headers=who.headers).status_code == 404
        )
    for path in (f"/attachments/{public['id']}", f"/attachments/{public['id']}/content"):
        assert client.get(f"{API}{path}", headers=outsider.headers).status_code == 404
    assert (
        client.get(f"{API}/tickets/{target}/attachments", headers=outsider.headers).status_code
        == 404
    )


def test_deleting_a_merged_file_keeps_the_target_count_right(client, people):
    first, second, agent = people["individual"], people["other"], people["agent"]
    source = make_ticket(client, first)["id"]
    target = make_ticket(client, second)["id"]
    (public,) = upload_ok(client, first, source, ("screen.png", PNG))
    merge(client, agent, source, target)
    deleted = client.delete(f"{API}/attachments/{public['id']}", headers=agent.headers)
    assert deleted.status_code == 204, deleted.text
    ticket = client.get(f"{API}/tickets/{target}", headers=second.headers).json()
    assert ticket["attachments_count"] == 0 and files(client, second, target) == []
