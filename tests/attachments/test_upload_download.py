"""Uploading and downloading on both stores: the round trip, identical bytes stored once,
files with a new ticket or reply in one request, counters per viewer, download headers."""

import hashlib
from urllib.parse import quote

import pytest

from tests.attachments.conftest import PDF, PNG, upload, upload_ok
from tests.factories import (
    API,
    count_rows,
    fetch_ticket,
    footprint,
    make_ticket,
    post_comment,
    rows_of,
)
from ticketdesk.attachments.models import Attachment, Blob
from ticketdesk.attachments.storage import storage_for
from ticketdesk.tickets.models import TicketActivity


def content(client, actor, attachment_id, **headers):
    return client.get(
        f"{API}/attachments/{attachment_id}/content", headers={**actor.headers, **headers}
    )


def stored_objects(client) -> list[str]:
    storage = storage_for(client.app.state.settings)

    async def _list():
        return [found.sha256 async for found in storage.objects()]

    return client.portal.call(_list)


def test_round_trip_on_each_store(client, people, store_kind, fake_clock):
    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    data = b"line one\nline two\n" * 1000
    (meta,) = upload_ok(client, owner, tid, ("report.log", data))
    assert meta == {
        "id": meta["id"],
        "ticket_id": tid,
        "comment_id": None,
        "filename": "report.log",
        "content_type": "text/plain; charset=utf-8",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "is_internal": False,
        "uploaded_by_id": owner.id,
        "created_at": fake_clock.current.isoformat().replace("+00:00", "Z"),
        "merged_from_number": None,
    }
    assert client.get(f"{API}/attachments/{meta['id']}", headers=owner.headers).json() == meta
    listed = client.get(f"{API}/tickets/{tid}/attachments", headers=owner.headers).json()
    assert listed == [meta]
    got = content(client, owner, meta["id"])
    assert got.status_code == 200
    assert got.content == data
    assert stored_objects(client) == [meta["sha256"]]
    activity = [row.kind for row in rows_of(client, TicketActivity, tid)]
    assert activity == ["created", "attachment_added"]


def test_identical_bytes_are_stored_once(client, people, store_kind):
    owner, agent = people["individual"], people["agent"]
    first = make_ticket(client, owner)["id"]
    second = make_ticket(client, owner)["id"]
    data = PNG + b"\x00" * 5000
    a = upload_ok(client, owner, first, ("a.png", data), ("again.png", data))
    b = upload_ok(client, agent, second, ("b.png", data))
    assert len({row["id"] for row in a + b}) == 3
    assert len({row["sha256"] for row in a + b}) == 1
    assert stored_objects(client) == [a[0]["sha256"]]
    assert count_rows(client, Blob) == 1
    # Deleting two of the three keeps the bytes; the last one takes them.
    for row in a:
        assert (
            client.delete(f"{API}/attachments/{row['id']}", headers=agent.headers).status_code
            == 204
        )
    assert content(client, owner, b[0]["id"]).content == data
    assert stored_objects(client) == [a[0]["sha256"]]
    assert (
        client.delete(f"{API}/attachments/{b[0]['id']}", headers=agent.headers).status_code == 204
    )
    assert stored_objects(client) == []
    assert count_rows(client, Blob) == 0
    # Tombstones stay, and the trail says who removed what.
    assert count_rows(client, Attachment, Attachment.deleted_at.is_not(None)) == 3
    trail = [r for r in rows_of(client, TicketActivity, second) if r.kind == "attachment_deleted"]
    assert [(r.actor_id, r.details["filename"]) for r in trail] == [(agent.id, "b.png")]


def test_ticket_and_files_in_one_multipart_request(client, people, store_kind):
    owner = people["individual"]
    response = client.post(
        f"{API}/tickets/",
        data={"subject": "Printer on fire", "description": "See the photo.", "priority": "high",
              "tags": "printer,fire"},
        files=[("file", ("photo.png", PNG, "image/png")), ("file", ("spec.pdf", PDF, "x/y"))],
        headers=owner.headers,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert (ticket["subject"], ticket["priority"], ticket["tags"]) == (
        "Printer on fire", "high", ["printer", "fire"]
    )  # fmt: skip
    assert ticket["attachments_count"] == 2
    listed = client.get(f"{API}/tickets/{ticket['id']}/attachments", headers=owner.headers).json()
    assert [(a["filename"], a["content_type"]) for a in listed] == [
        ("photo.png", "image/png"),
        ("spec.pdf", "application/pdf"),
    ]


def test_staff_form_fields_keep_their_types(client, people):
    agent, customer = people["agent"], people["individual"]
    response = client.post(
        f"{API}/tickets/",
        data={"subject": "On behalf", "description": "Phoned in.", "user_id": str(customer.id),
              "is_internal": "false"},
        files=[("file", ("call.txt", b"notes", "text/plain"))],
        headers=agent.headers,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["user_id"] == customer.id


def test_invalid_form_fields_store_nothing(client, people):
    owner = people["individual"]
    response = client.post(
        f"{API}/tickets/",
        data={"subject": "", "description": "x"},
        files=[("file", ("a.txt", b"a", "text/plain"))],
        headers=owner.headers,
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "subject"]
    assert count_rows(client, Attachment) == 0


def test_reply_and_files_in_one_request(client, people, store_kind):
    owner, agent = people["individual"], people["agent"]
    tid = make_ticket(client, owner)["id"]
    response = client.post(
        f"{API}/tickets/{tid}/comments",
        data={"comment": "Here is the log."},
        files=[("file", ("app.log", b"ERROR boom\n", "text/plain"))],
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    reply = response.json()
    assert [a["filename"] for a in reply["attachments"]] == ["app.log"]
    assert reply["attachments"][0]["comment_id"] == reply["id"]
    # An internal note's files are internal, whatever the form said.
    note = client.post(
        f"{API}/tickets/{tid}/comments",
        data={"comment": "Looks like the disk.", "is_internal": "true"},
        files=[("file", ("disk.txt", b"smart data", "text/plain"))],
        headers=agent.headers,
    ).json()
    assert note["attachments"][0]["is_internal"] is True
    as_customer = client.get(f"{API}/tickets/{tid}/comments", headers=owner.headers).json()
    assert [[a["filename"] for a in c["attachments"]] for c in as_customer] == [["app.log"]]
    as_agent = client.get(f"{API}/tickets/{tid}/comments", headers=agent.headers).json()
    assert [[a["filename"] for a in c["attachments"]] for c in as_agent] == [
        ["app.log"],
        ["disk.txt"],
    ]
    assert fetch_ticket(client, owner, tid)["attachments_count"] == 1
    assert fetch_ticket(client, agent, tid)["attachments_count"] == 2


def test_json_comment_still_works_without_files(client, people):
    tid = make_ticket(client, people["individual"])["id"]
    assert post_comment(client, people["agent"], tid)["attachments"] == []


def test_attachments_count_per_viewer_in_lists(client, people):
    owner, agent = people["individual"], people["agent"]
    tid = make_ticket(client, owner)["id"]
    upload_ok(client, owner, tid, ("a.txt", b"a"))
    upload_ok(client, agent, tid, ("b.txt", b"b"), is_internal=True)
    for actor, expected in ((owner, 1), (agent, 2)):
        listed = client.get(f"{API}/tickets/", headers=actor.headers).json()
        assert [t["attachments_count"] for t in listed if t["id"] == tid] == [expected]
        assert fetch_ticket(client, actor, tid)["attachments_count"] == expected


def test_internal_file_leaves_the_customers_view_untouched(client, people, fake_clock):
    owner, agent = people["individual"], people["agent"]
    tid = make_ticket(client, owner)["id"]
    before = fetch_ticket(client, owner, tid)
    fake_clock.advance(minutes=5)
    upload_ok(client, agent, tid, ("secret.txt", b"s"), is_internal=True)
    assert fetch_ticket(client, owner, tid) == before


def test_files_on_a_comment_by_its_author_only(client, people):
    owner, agent = people["individual"], people["agent"]
    tid = make_ticket(client, owner)["id"]
    mine = post_comment(client, owner, tid)["id"]
    theirs = post_comment(client, agent, tid)["id"]
    (row,) = upload_ok(client, owner, tid, ("x.txt", b"x"), comment_id=mine)
    assert row["comment_id"] == mine
    assert upload(client, owner, tid, ("x.txt", b"x"), comment_id=theirs).status_code == 403
    note = post_comment(client, agent, tid, is_internal=True)["id"]
    assert upload(client, owner, tid, ("x.txt", b"x"), comment_id=note).status_code == 422
    other = make_ticket(client, owner)["id"]
    assert upload(client, owner, other, ("x.txt", b"x"), comment_id=mine).status_code == 422
    (on_note,) = upload_ok(client, agent, tid, ("n.txt", b"n"), comment_id=note)
    assert on_note["is_internal"] is True


def test_customers_cannot_upload_internal_files(client, people):
    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    before = footprint(client, tid)
    response = upload(client, owner, tid, ("x.txt", b"x"), is_internal=True)
    assert response.status_code == 403
    assert footprint(client, tid) == before
    assert count_rows(client, Attachment) == 0


def test_an_upload_needs_a_file(client, people):
    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    body = b'--x\r\nContent-Disposition: form-data; name="is_internal"\r\n\r\nfalse\r\n--x--\r\n'
    headers = {**owner.headers, "Content-Type": "multipart/form-data; boundary=x"}
    response = client.post(f"{API}/tickets/{tid}/attachments", content=body, headers=headers)
    assert response.status_code == 422


def test_file_names_are_cleaned(client, people):
    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    long_name = "é" * 200 + ".txt"
    rows = upload_ok(
        client, owner, tid, ("../../etc/passwd", b"x"), ("C:\\Users\\me\\notes.txt", b"y"),
        (long_name, b"w"),
    )  # fmt: skip
    names = [row["filename"] for row in rows]
    assert names[:2] == ["passwd", "notes.txt"]
    assert len(names[2].encode()) <= 255 and names[2].endswith(".txt")
    # Control characters sent raw (a client library would escape them).
    raw = (
        b'--b\r\nContent-Disposition: form-data; name="file"; '
        b'filename="bad\x01\x1fname\x7f\t.txt"\r\n\r\nz\r\n--b--\r\n'
    )
    headers = {**owner.headers, "Content-Type": "multipart/form-data; boundary=b"}
    response = client.post(f"{API}/tickets/{tid}/attachments", content=raw, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()[0]["filename"] == "badname.txt"


def test_download_headers(client, people):
    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    (row,) = upload_ok(client, owner, tid, ("Rapport d'été.pdf", PDF))
    got = content(client, owner, row["id"])
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"].startswith("sandbox")
    assert got.headers["cache-control"].startswith("private")
    assert got.headers["etag"] == f'"{row["sha256"]}"'
    assert got.headers["content-disposition"] == (
        'attachment; filename="Rapport d\'_t_.pdf"; '
        f"filename*=UTF-8''{quote('Rapport d' + chr(39) + 'été.pdf', safe='')}"
    )
    inline = client.get(f"{API}/attachments/{row['id']}/content?inline=1", headers=owner.headers)
    assert inline.headers["content-disposition"].startswith("inline;")


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("page.html", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "text/html"),
        ("looks.png", b"<html><body onload=alert(1)></body></html>", "text/html"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>',
         "image/svg+xml"),
        ("x.txt", b"  \n<svg onload=alert(1)>", "image/svg+xml"),
    ],
)  # fmt: skip
def test_html_and_svg_are_always_downloads(client, people, name, data, expected):
    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    (row,) = upload_ok(client, owner, tid, (name, data), content_type="image/png")
    assert row["content_type"] == expected
    got = client.get(f"{API}/attachments/{row['id']}/content?inline=1", headers=owner.headers)
    assert got.headers["content-type"].startswith(expected)
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"


def test_the_declared_type_is_not_trusted(client, people):
    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    (row,) = upload_ok(client, owner, tid, ("invoice.pdf", PNG), content_type="application/pdf")
    assert row["content_type"] == "image/png"


def test_ranges_and_etags(client, people, store_kind):
    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    data = bytes(range(256)) * 40
    (row,) = upload_ok(client, owner, tid, ("blob.bin", data))
    aid, etag = row["id"], f'"{row["sha256"]}"'
    part = content(client, owner, aid, Range="bytes=10-19")
    assert (part.status_code, part.content) == (206, data[10:20])
    assert part.headers["content-range"] == f"bytes 10-19/{len(data)}"
    assert content(client, owner, aid, Range="bytes=10000-").content == data[10000:]
    assert content(client, owner, aid, Range="bytes=-5").content == data[-5:]
    past = content(client, owner, aid, Range=f"bytes={len(data)}-")
    assert (past.status_code, past.headers["content-range"]) == (416, f"bytes */{len(data)}")
    assert content(client, owner, aid, Range="bytes=0-1,5-6").status_code == 200
    assert content(client, owner, aid, Range="bytes=abc").status_code == 200
    assert content(client, owner, aid, **{"If-None-Match": etag}).status_code == 304
    stale = content(client, owner, aid, Range="bytes=0-0", **{"If-Range": '"other"'})
    assert (stale.status_code, len(stale.content)) == (200, len(data))
    assert content(client, owner, aid, Range="bytes=0-0", **{"If-Range": etag}).status_code == 206


def test_uploader_deletes_within_fifteen_minutes(client, people, fake_clock):
    owner, other_customer = people["individual"], people["other"]
    tid = make_ticket(client, owner)["id"]
    first, second = upload_ok(client, owner, tid, ("a.txt", b"a"), ("b.txt", b"b"))
    fake_clock.advance(minutes=14)
    assert (
        client.delete(f"{API}/attachments/{first['id']}", headers=owner.headers).status_code == 204
    )
    assert client.get(f"{API}/attachments/{first['id']}", headers=owner.headers).status_code == 404
    fake_clock.advance(minutes=2)
    late = client.delete(f"{API}/attachments/{second['id']}", headers=owner.headers)
    assert late.status_code == 403
    stranger = client.delete(f"{API}/attachments/{second['id']}", headers=other_customer.headers)
    assert stranger.status_code == 404
    assert fetch_ticket(client, owner, tid)["attachments_count"] == 1
    agent = people["agent"]
    assert (
        client.delete(f"{API}/attachments/{second['id']}", headers=agent.headers).status_code == 204
    )
    assert fetch_ticket(client, owner, tid)["attachments_count"] == 0
    again = client.delete(f"{API}/attachments/{second['id']}", headers=agent.headers)
    assert again.status_code == 404


def test_each_file_is_an_event(client, people):
    from ticketdesk.events.models import Event

    owner, agent = people["individual"], people["agent"]
    tid = make_ticket(client, owner)["id"]
    (public,) = upload_ok(client, owner, tid, ("a.txt", b"a"))
    (internal,) = upload_ok(client, agent, tid, ("b.txt", b"b"), is_internal=True)
    found = rows_of(client, Event, tid)
    added = [(e.actor_id, e.is_internal, e.data["attachment_id"]) for e in found
             if e.type == "attachment.added"]  # fmt: skip
    assert added == [(owner.id, False, public["id"]), (agent.id, True, internal["id"])]
