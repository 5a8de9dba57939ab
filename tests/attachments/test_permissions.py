"""Who may see, fetch, list, add and delete attachments: every role against a public file,
an internal file, and a file on a staff-only ticket."""

import pytest

from tests.attachments.conftest import upload, upload_ok
from tests.factories import API, make_ticket

pytestmark = pytest.mark.shared_database

VIEWERS = ("anonymous", "owner", "enterprise", "sub_user", "other", "agent", "super_admin")
# Expected status for metadata and content, per kind of file.
SEES = {
    "public": {"anonymous": 401, "owner": 200, "agent": 200, "super_admin": 200},
    "internal": {"anonymous": 401, "agent": 200, "super_admin": 200},
    "staff_ticket": {"anonymous": 401, "agent": 200, "super_admin": 200},
}


@pytest.fixture(scope="module")
def files(module_client, module_people):
    client, people = module_client, module_people
    owner, agent = people["individual"], people["agent"]
    tid = make_ticket(client, owner)["id"]
    staff_tid = make_ticket(client, agent, is_internal=True)["id"]
    (public,) = upload_ok(client, owner, tid, ("public.txt", b"for everyone"))
    (internal,) = upload_ok(client, agent, tid, ("internal.txt", b"staff eyes"), is_internal=True)
    (staff,) = upload_ok(client, agent, staff_tid, ("staff.txt", b"staff ticket"))
    return {
        "tickets": {"public": tid, "staff_ticket": staff_tid},
        "public": public,
        "internal": internal,
        "staff_ticket": staff,
    }


def headers_of(people, viewer):
    if viewer == "anonymous":
        return {}
    return people["individual" if viewer == "owner" else viewer].headers


@pytest.mark.parametrize("kind", ["public", "internal", "staff_ticket"])
@pytest.mark.parametrize("viewer", VIEWERS)
def test_metadata_and_content(client, people, files, kind, viewer):
    aid = files[kind]["id"]
    expected = SEES[kind].get(viewer, 404)
    headers = headers_of(people, viewer)
    meta = client.get(f"{API}/attachments/{aid}", headers=headers)
    got = client.get(f"{API}/attachments/{aid}/content", headers=headers)
    assert (meta.status_code, got.status_code) == (expected, expected)
    if expected == 200:
        assert meta.json()["filename"] == f"{kind.split('_')[0]}.txt"
        assert got.content in (b"for everyone", b"staff eyes", b"staff ticket")
    else:
        assert "detail" in meta.json() and "detail" in got.json()
        assert files[kind]["filename"] not in got.text


@pytest.mark.parametrize("viewer", VIEWERS)
def test_listing(client, people, files, viewer):
    headers = headers_of(people, viewer)
    listed = client.get(f"{API}/tickets/{files['tickets']['public']}/attachments", headers=headers)
    staff_list = client.get(
        f"{API}/tickets/{files['tickets']['staff_ticket']}/attachments", headers=headers
    )
    expected = {
        "anonymous": (401, 401),
        "owner": (200, 404),
        "agent": (200, 200),
        "super_admin": (200, 200),
    }.get(viewer, (404, 404))
    assert (listed.status_code, staff_list.status_code) == expected
    if listed.status_code == 200:
        names = [row["filename"] for row in listed.json()]
        assert names == (["public.txt"] if viewer == "owner" else ["public.txt", "internal.txt"])


@pytest.mark.parametrize("viewer", VIEWERS)
def test_adding_files(client, people, files, viewer):
    headers = headers_of(people, viewer)
    tid = files["tickets"]["public"]
    parts = [("file", ("new.txt", b"new", "text/plain"))]
    response = client.post(f"{API}/tickets/{tid}/attachments", files=parts, headers=headers)
    expected = {"anonymous": 401, "owner": 201, "agent": 201, "super_admin": 201}
    assert response.status_code == expected.get(viewer, 404)


@pytest.mark.parametrize("viewer", ["enterprise", "sub_user", "other", "owner"])
def test_customers_cannot_delete_what_they_cannot_see(client, people, files, viewer):
    headers = headers_of(people, viewer)
    for kind in ("internal", "staff_ticket") + (("public",) if viewer != "owner" else ()):
        response = client.delete(f"{API}/attachments/{files[kind]['id']}", headers=headers)
        assert response.status_code == 404


def test_owner_cannot_delete_a_file_someone_else_uploaded(client, people, files):
    agent_file = upload_ok(client, people["agent"], files["tickets"]["public"], ("a.txt", b"a"))
    response = client.delete(
        f"{API}/attachments/{agent_file[0]['id']}", headers=people["individual"].headers
    )
    assert response.status_code == 403


@pytest.mark.parametrize("bad", ["not-a-uuid", "00000000-0000-0000-0000-000000000000", "1"])
def test_unknown_ids_are_not_found(client, people, bad):
    response = client.get(f"{API}/attachments/{bad}/content", headers=people["agent"].headers)
    assert response.status_code == 404


def test_customers_may_not_upload_to_a_staff_only_ticket(client, people, files):
    response = upload(client, people["individual"], files["tickets"]["staff_ticket"], ("x", b"x"))
    assert response.status_code == 404
