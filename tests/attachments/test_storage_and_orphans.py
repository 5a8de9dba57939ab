"""The storage contract on both stores, and the orphan sweep after a crash between storing
the bytes and committing the rows."""

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
from fastapi.testclient import TestClient

from tests.attachments.conftest import upload, upload_ok
from tests.factories import API, count_rows, make_people, make_ticket
from ticketdesk import db
from ticketdesk.attachments import jobs
from ticketdesk.attachments import service as attachments
from ticketdesk.attachments.models import Attachment, Blob
from ticketdesk.attachments.storage import LocalStorage, storage_for
from ticketdesk.main import create_app


def run(client, work):
    return client.portal.call(work)


def test_storage_contract(client, store_kind, tmp_path: Path):
    storage = storage_for(client.app.state.settings)
    data = bytes(range(256)) * 1000
    sha = hashlib.sha256(data).hexdigest()
    source = tmp_path / "source"
    source.write_bytes(data)

    async def scenario():
        assert not await storage.exists(sha)
        assert await storage.modified_at(sha) is None
        await storage.put_file(sha, source)
        await storage.put_file(sha, source)  # a second store of the same bytes is harmless
        assert await storage.exists(sha)
        whole = b"".join([chunk async for chunk in storage.read(sha, 0, len(data) - 1)])
        part = b"".join([chunk async for chunk in storage.read(sha, 1000, 1999)])
        listed = [found.sha256 async for found in storage.objects()]
        await storage.delete(sha)
        await storage.delete(sha)  # already gone: no error
        return whole, part, listed, await storage.exists(sha)

    whole, part, listed, still_there = run(client, scenario)
    assert whole == data
    assert part == data[1000:2000]
    assert listed == [sha]
    assert still_there is False
    assert source.read_bytes() == data  # the store never consumes the caller's file


def test_local_store_writes_only_whole_files(tmp_path: Path):
    storage = LocalStorage(tmp_path / "store")
    source = tmp_path / "source"
    source.write_bytes(b"abc")
    sha = hashlib.sha256(b"abc").hexdigest()
    anyio.run(storage.put_file, sha, source)
    stored = tmp_path / "store" / sha[:2] / sha[2:4] / sha
    assert stored.read_bytes() == b"abc"
    assert [p.name for p in stored.parent.iterdir()] == [sha]  # no partial file left


def _crash_before_commit(monkeypatch):
    """The process dies after the bytes are stored and before the rows are committed."""

    async def crash(*_args, **_kwargs):
        raise SystemError("the process died here")

    monkeypatch.setattr(attachments, "_reference", crash)


def _sweep(client: TestClient, *, at: datetime, grace: timedelta = timedelta(hours=1)) -> int:
    storage = storage_for(client.app.state.settings)

    def transaction():
        return db.session_scope(client.app.state.sessionmaker)

    async def go():
        return await jobs.sweep_orphans(storage, transaction, now=at, grace=grace)

    return int(run(client, go))


def _stored(client: TestClient) -> list[str]:
    storage = storage_for(client.app.state.settings)

    async def go():
        return sorted([found.sha256 async for found in storage.objects()])

    return list(run(client, go))


def test_a_crash_leaves_an_orphan_the_sweep_removes(settings, store_kind, monkeypatch):
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        people = make_people(client)
        owner = people["individual"]
        tid = make_ticket(client, owner)["id"]
        (kept,) = upload_ok(client, owner, tid, ("kept.txt", b"kept"))
        with monkeypatch.context() as patch:
            _crash_before_commit(patch)
            response = upload(client, owner, tid, ("lost.txt", b"lost bytes"))
        assert response.status_code == 500
        lost = hashlib.sha256(b"lost bytes").hexdigest()
        assert _stored(client) == sorted([kept["sha256"], lost])
        assert count_rows(client, Attachment) == 1
        assert count_rows(client, Blob) == 1
        now = datetime.now(UTC)
        assert _sweep(client, at=now) == 0  # young bytes may belong to an upload under way
        assert _stored(client) == sorted([kept["sha256"], lost])
        assert _sweep(client, at=now + timedelta(hours=2)) == 1
        assert _stored(client) == [kept["sha256"]]
        got = client.get(f"{API}/attachments/{kept['id']}/content", headers=owner.headers)
        assert got.content == b"kept"


def test_files_removed_with_their_ticket_are_swept(client, people, store_kind):
    from sqlalchemy import delete

    from tests.factories import in_db
    from ticketdesk.tickets.models import Ticket

    owner = people["individual"]
    gone, kept = make_ticket(client, owner)["id"], make_ticket(client, owner)["id"]
    (lost,) = upload_ok(client, owner, gone, ("a.txt", b"only here"))
    (shared,) = upload_ok(client, owner, gone, ("b.txt", b"in both"))
    upload_ok(client, owner, kept, ("b.txt", b"in both"))

    async def erase(session):
        await session.execute(delete(Ticket).where(Ticket.id == gone))

    in_db(client, erase)
    later = datetime.now(UTC) + timedelta(hours=2)
    assert _sweep(client, at=later) == 1
    assert _stored(client) == [shared["sha256"]]
    assert count_rows(client, Blob) == 1
    assert lost["sha256"] not in _stored(client)


def test_the_sweep_runs_as_periodic_work(client, people, fake_clock):
    from tests.factories import run_jobs

    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    (kept,) = upload_ok(client, owner, tid, ("kept.txt", b"kept"))
    storage = storage_for(client.app.state.settings)
    orphan = hashlib.sha256(b"nobody's").hexdigest()
    source = Path(client.app.state.settings.data_dir) / "orphan"
    source.write_bytes(b"nobody's")
    run(client, lambda: storage.put_file(orphan, source))
    fake_clock.set(datetime.now(UTC) + timedelta(hours=2))
    assert run_jobs(client) >= 1
    assert _stored(client) == [kept["sha256"]]
