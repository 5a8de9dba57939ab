"""Auto-close: a resolved ticket untouched for the configured hours is closed by the system."""

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.factories import (
    API,
    STATUSES,
    footprint,
    in_db,
    insert_tickets,
    iso,
    rows_of,
    run_jobs,
    set_status,
    ticket_in_status,
)
from ticketdesk import clock, db, main
from ticketdesk.config import Settings
from ticketdesk.jobs import worker
from ticketdesk.tickets import autoclose
from ticketdesk.tickets.models import Status, TicketActivity, TicketStatusHistory


def auto_close_pass(client, settings):
    """Runs the due jobs as a worker would; returns how many tickets were closed."""
    before = closed_count(client)
    run_jobs(client, settings)
    return closed_count(client) - before


def closed_count(client):
    async def _count(session):
        query = select(func.count()).where(TicketStatusHistory.to_status == Status.CLOSED)
        return await session.scalar(query)

    return in_db(client, _count)


def show(client, people, ticket_id):
    return client.get(f"{API}/tickets/{ticket_id}", headers=people["agent"].headers).json()


def test_defaults_are_48_hours_checked_every_60_seconds():
    assert Settings.model_fields["auto_close_hours"].default == 48
    assert Settings.model_fields["jobs_interval_seconds"].default == 60


def test_every_server_process_runs_a_worker(settings):
    """The app starts a worker with its settings and stops it on shutdown; tests turn it off."""
    with TestClient(main.create_app(settings.model_copy(update={"worker": True}))) as c:
        assert c.get("/healthz").status_code == 200
        running = c.app.state.worker
        assert isinstance(running, worker.Worker)
        assert running in worker._local_workers
    assert running not in worker._local_workers
    with TestClient(main.create_app(settings)) as c:
        assert not hasattr(c.app.state, "worker")


def test_resolved_and_untouched_for_48_hours_is_closed(client, people, settings, fake_clock):
    resolved_at = fake_clock.current
    tid = ticket_in_status(client, people, "resolved")["id"]
    fake_clock.advance(hours=48)

    assert auto_close_pass(client, settings) == 1

    shown = show(client, people, tid)
    assert shown["status"] == "closed"
    assert shown["closed_at"] == iso(fake_clock.current)
    assert shown["resolved_at"] == iso(resolved_at)
    row = rows_of(client, TicketStatusHistory, tid)[-1]
    assert (row.from_status, row.to_status) == ("resolved", "closed")
    assert row.changed_by_id is None
    assert row.changed_at == fake_clock.current
    assert "48" in row.change_note and "automatic" in row.change_note.lower()
    activity = rows_of(client, TicketActivity, tid)[-1]
    assert (activity.kind, activity.actor_id) == ("status_changed", None)
    history = client.get(f"{API}/tickets/{tid}/history", headers=people["agent"].headers).json()
    assert history[-1]["changed_by_id"] is None
    # The customer may reopen it like any closed ticket.
    assert set_status(client, people["individual"], tid, "reopened")["status"] == "reopened"


def test_not_yet_due_is_left_alone(client, people, settings, fake_clock):
    tid = ticket_in_status(client, people, "resolved")["id"]
    fake_clock.advance(hours=47.9)
    before = footprint(client, tid)
    assert auto_close_pass(client, settings) == 0
    assert footprint(client, tid) == before
    fake_clock.advance(hours=0.1)
    assert auto_close_pass(client, settings) == 1
    # A second pass, a minute later, finds nothing more to do.
    fake_clock.advance(minutes=1)
    assert auto_close_pass(client, settings) == 0
    assert len(rows_of(client, TicketStatusHistory, tid)) == 2


def test_fractional_hours(client, people, settings, fake_clock):
    half_hour = settings.model_copy(update={"auto_close_hours": 0.5})
    tid = ticket_in_status(client, people, "resolved")["id"]
    fake_clock.advance(minutes=29)
    assert auto_close_pass(client, half_hour) == 0
    fake_clock.advance(minutes=1)
    assert auto_close_pass(client, half_hour) == 1
    assert show(client, people, tid)["status"] == "closed"
    assert "0.5 hours" in rows_of(client, TicketStatusHistory, tid)[-1].change_note


def test_only_resolved_tickets_are_closed(client, people, settings, fake_clock):
    ids = {s: ticket_in_status(client, people, s)["id"] for s in STATUSES}
    fake_clock.advance(days=30)
    before = {s: footprint(client, tid) for s, tid in ids.items() if s != "resolved"}
    assert auto_close_pass(client, settings) == 1
    assert show(client, people, ids["resolved"])["status"] == "closed"
    assert {s: footprint(client, ids[s]) for s in before} == before


def test_a_staff_reply_restarts_the_wait(client, people, settings, fake_clock):
    """A public staff comment on a resolved ticket keeps it resolved but touches it."""
    tid = ticket_in_status(client, people, "resolved")["id"]
    fake_clock.advance(hours=24)
    response = client.post(
        f"{API}/tickets/{tid}/comments",
        json={"comment": "Let us know if it happens again."},
        headers=people["agent"].headers,
    )
    assert response.status_code == 201
    assert show(client, people, tid)["status"] == "resolved"

    fake_clock.advance(hours=24)  # 48 h after resolving, 24 h after the reply
    assert auto_close_pass(client, settings) == 0
    fake_clock.advance(hours=24)
    assert auto_close_pass(client, settings) == 1
    assert show(client, people, tid)["status"] == "closed"


def test_a_customer_reply_reopens_so_nothing_is_closed(client, people, settings, fake_clock):
    tid = ticket_in_status(client, people, "resolved")["id"]
    fake_clock.advance(hours=1)
    response = client.post(
        f"{API}/tickets/{tid}/comments",
        json={"comment": "Not fixed for me."},
        headers=people["individual"].headers,
    )
    assert response.status_code == 201
    fake_clock.advance(hours=100)
    assert auto_close_pass(client, settings) == 0
    assert show(client, people, tid)["status"] == "reopened"


def test_an_internal_note_does_not_restart_the_wait(client, people, settings, fake_clock):
    """Notes leave updated_at alone (customers must not learn of them), so the wait goes on."""
    tid = ticket_in_status(client, people, "resolved")["id"]
    fake_clock.advance(hours=47)
    response = client.post(
        f"{API}/tickets/{tid}/comments",
        json={"comment": "Customer happy on the phone.", "is_internal": True},
        headers=people["agent"].headers,
    )
    assert response.status_code == 201
    fake_clock.advance(hours=1)
    assert auto_close_pass(client, settings) == 1


def test_more_tickets_than_one_batch(client, people, settings, fake_clock):
    resolved = fake_clock.current - timedelta(hours=49)
    ids = insert_tickets(
        client,
        people["individual"].id,
        450,
        status=Status.RESOLVED,
        resolved_at=resolved,
        updated_at=resolved,
    )
    run_jobs(client, settings)
    assert closed_count(client) == 450
    for tid in (ids[0], ids[199], ids[200], ids[-1]):
        assert show(client, people, tid)["status"] == "closed"


async def _two_processes_at_once(url, settings):
    """Two engines, as two server processes have, running the jobs at the same moment."""
    engines = [db.create_engine(url), db.create_engine(url)]
    try:
        makers = [db.make_sessionmaker(engine) for engine in engines]
        return await asyncio.gather(
            *(autoclose.close_all(maker, now=clock.now(), hours=48) for maker in makers)
        )
    finally:
        for engine in engines:
            await engine.dispose()


def test_two_runs_at_the_same_moment_close_each_ticket_once(
    client, people, settings, fake_clock, database_url
):
    resolved = fake_clock.current - timedelta(hours=50)
    ids = insert_tickets(
        client,
        people["individual"].id,
        260,
        status=Status.RESOLVED,
        resolved_at=resolved,
        updated_at=resolved,
    )
    done = asyncio.run(_two_processes_at_once(database_url, settings))

    assert sum(done) == len(ids)

    async def _count(session):
        query = select(TicketStatusHistory.ticket_id, func.count()).group_by(
            TicketStatusHistory.ticket_id
        )
        return dict((await session.execute(query)).all())

    assert in_db(client, _count) == dict.fromkeys(ids, 1)
    assert {show(client, people, tid)["status"] for tid in ids[::37]} == {"closed"}


def _cli(database_url, tmp_path, **env):
    executable = Path(sys.executable).with_name("ticketdesk")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TICKETDESK_")}
    clean |= {
        "TICKETDESK_DATABASE_URL": database_url,
        "TICKETDESK_DATA_DIR": str(tmp_path),
        **env,
    }
    return subprocess.run(
        [str(executable), "worker", "--once"],
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("hours", "due_age", "not_due_age"),
    [
        (None, timedelta(hours=49), timedelta(hours=47)),
        ("0.5", timedelta(minutes=31), timedelta(minutes=25)),
    ],
    ids=["default-48h", "fractional-0.5h"],
)
def test_run_jobs_once_from_the_command_line(
    client, people, database_url, tmp_path, hours, due_age, not_due_age
):
    """The real clock here: tickets resolved long enough ago are written straight to the DB."""
    now = datetime.now(UTC)
    owner = people["individual"].id
    due = insert_tickets(
        client,
        owner,
        3,
        status=Status.RESOLVED,
        resolved_at=now - due_age,
        updated_at=now - due_age,
    )
    not_due = insert_tickets(
        client,
        owner,
        2,
        status=Status.RESOLVED,
        resolved_at=now - not_due_age,
        updated_at=now - not_due_age,
    )
    old_open = insert_tickets(client, owner, 1, updated_at=now - timedelta(days=9))

    env = {"TICKETDESK_AUTO_CLOSE_HOURS": hours} if hours else {}
    result = _cli(database_url, tmp_path, **env)

    assert result.returncode == 0, result.stderr
    assert "jobs done" in result.stdout
    for tid in due:
        assert show(client, people, tid)["status"] == "closed"
        row = rows_of(client, TicketStatusHistory, tid)[-1]
        assert (row.to_status, row.changed_by_id) == ("closed", None)
    for tid in not_due + old_open:
        assert rows_of(client, TicketStatusHistory, tid) == []
    assert show(client, people, not_due[0])["status"] == "resolved"
    assert show(client, people, old_open[0])["status"] == "open"
