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
    set_status,
    ticket_in_status,
)
from ticketdesk import db, jobs, main
from ticketdesk.config import Settings
from ticketdesk.tickets.models import Status, TicketActivity, TicketStatusHistory


def run_jobs(client, settings):
    """One pass of the periodic jobs, as a server process runs it."""
    return client.portal.call(jobs.run_once, client.app.state.sessionmaker, settings)


def show(client, people, ticket_id):
    return client.get(f"{API}/tickets/{ticket_id}", headers=people["agent"].headers).json()


def test_defaults_are_48_hours_checked_every_60_seconds():
    assert Settings.model_fields["auto_close_hours"].default == 48
    assert Settings.model_fields["jobs_interval_seconds"].default == 60


def test_every_server_process_runs_the_jobs(monkeypatch, settings):
    """The app starts the periodic runner with its settings and stops it on shutdown."""
    seen = []

    async def fake_runner(sessionmaker, given):
        seen.append((sessionmaker, given.jobs_interval_seconds))
        try:
            await asyncio.Event().wait()
        finally:
            seen.append("stopped")

    monkeypatch.setattr(main.jobs, "run_periodically", fake_runner)
    with TestClient(
        main.create_app(settings.model_copy(update={"jobs_interval_seconds": 60}))
    ) as c:
        assert c.get("/healthz").status_code == 200
        assert seen == [(c.app.state.sessionmaker, 60)]
    assert seen[-1] == "stopped"
    # Interval 0 switches the runner off (the tests' own setting).
    with TestClient(main.create_app(settings)):
        pass
    assert len(seen) == 2


def test_resolved_and_untouched_for_48_hours_is_closed(client, people, settings, fake_clock):
    resolved_at = fake_clock.current
    tid = ticket_in_status(client, people, "resolved")["id"]
    fake_clock.advance(hours=48)

    assert run_jobs(client, settings) == 1

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
    assert run_jobs(client, settings) == 0
    assert footprint(client, tid) == before
    fake_clock.advance(hours=0.1)
    assert run_jobs(client, settings) == 1
    # A second pass finds nothing more to do.
    assert run_jobs(client, settings) == 0
    assert len(rows_of(client, TicketStatusHistory, tid)) == 2


def test_fractional_hours(client, people, settings, fake_clock):
    half_hour = settings.model_copy(update={"auto_close_hours": 0.5})
    tid = ticket_in_status(client, people, "resolved")["id"]
    fake_clock.advance(minutes=29)
    assert run_jobs(client, half_hour) == 0
    fake_clock.advance(minutes=1)
    assert run_jobs(client, half_hour) == 1
    assert show(client, people, tid)["status"] == "closed"
    assert "0.5 hours" in rows_of(client, TicketStatusHistory, tid)[-1].change_note


def test_only_resolved_tickets_are_closed(client, people, settings, fake_clock):
    ids = {s: ticket_in_status(client, people, s)["id"] for s in STATUSES}
    fake_clock.advance(days=30)
    before = {s: footprint(client, tid) for s, tid in ids.items() if s != "resolved"}
    assert run_jobs(client, settings) == 1
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
    assert run_jobs(client, settings) == 0
    fake_clock.advance(hours=24)
    assert run_jobs(client, settings) == 1
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
    assert run_jobs(client, settings) == 0
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
    assert run_jobs(client, settings) == 1


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
    assert run_jobs(client, settings) == 450
    for tid in (ids[0], ids[199], ids[200], ids[-1]):
        assert show(client, people, tid)["status"] == "closed"


async def _two_processes_at_once(url, settings):
    """Two engines, as two server processes have, running the jobs at the same moment."""
    engines = [db.create_engine(url), db.create_engine(url)]
    try:
        makers = [db.make_sessionmaker(engine) for engine in engines]
        return await asyncio.gather(*(jobs.run_once(maker, settings) for maker in makers))
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
        [str(executable), "run-jobs", "--once"],
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
    assert "3 tickets changed" in result.stdout
    for tid in due:
        assert show(client, people, tid)["status"] == "closed"
        row = rows_of(client, TicketStatusHistory, tid)[-1]
        assert (row.to_status, row.changed_by_id) == ("closed", None)
    for tid in not_due + old_open:
        assert rows_of(client, TicketStatusHistory, tid) == []
    assert show(client, people, not_due[0])["status"] == "resolved"
    assert show(client, people, old_open[0])["status"] == "open"


def test_the_periodic_runner_waits_the_interval_and_survives_failures(monkeypatch, settings):
    """run_periodically: sleep the interval, run the jobs, log a failure and carry on."""
    events = []

    async def fake_sleep(seconds):
        events.append(("sleep", seconds))
        if len(events) >= 7:
            raise asyncio.CancelledError

    async def fake_run_once(sessionmaker, given_settings):
        events.append(("run", given_settings.auto_close_hours))
        if len(events) == 2:
            raise RuntimeError("database unreachable")
        return 1

    monkeypatch.setattr(jobs.asyncio, "sleep", fake_sleep)
    monkeypatch.setattr(jobs, "run_once", fake_run_once)
    every_minute = settings.model_copy(update={"jobs_interval_seconds": 60.0})
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(jobs.run_periodically(None, every_minute))
    assert events == [("sleep", 60.0), ("run", 48.0)] * 3 + [("sleep", 60.0)]
