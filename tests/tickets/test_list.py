"""GET /tickets/ and GET /tickets/my: scoping, filters, sorting, paging, headers.

Every test here only reads, so the module builds one data set (nine tickets, A to I, filed in
that order) and shares it. States no endpoint of this module reaches (status, assignee,
first response, updated_at) are written straight into the database.
"""

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import (
    API,
    FakeClock,
    make_ticket,
    set_ticket_columns,
)
from ticketdesk import clock

TICKETS = f"{API}/tickets"


def at(day, hour=0, minute=0, second=0):
    return datetime(2025, 1, day, hour, minute, second, tzinfo=UTC)


# label: (creator, created_at, fields, columns written afterwards)
DATA = {
    "A": ("individual", at(5, 23, 59, 59), dict(
        subject="Invoice is wrong", description="Charged twice", priority="low",
        category="billing", tags="invoice"), dict(updated_at=at(8))),
    "B": ("individual", at(6), dict(
        subject="Printer on fire", description="Paper jam in tray 2", priority="high",
        category="technical_support", tags="report,error"),
        dict(status="in_progress", assigned_to_id="agent", first_response_at=at(6, 0, 30))),
    "C": ("enterprise", at(6, 12), dict(
        subject="CPU at 100% always", description="The fan is loud", priority="urgent",
        category="bug_report", tags="error"),
        dict(status="waiting_on_customer", assigned_to_id="super_admin",
             updated_at=at(7, 12))),
    "D": ("other", at(6, 23, 59, 59), dict(
        subject="file_name bug", description="Cannot upload", priority="medium",
        category="account"), dict(status="resolved", assigned_to_id="agent")),
    "E": ("sub_user", at(7), dict(
        subject="file-name bug", description="PRINTER question", priority="medium",
        category="general_inquiry", tags="Report"), dict(status="closed")),
    "F": ("agent", at(7, 8), dict(
        subject="Internal audit", description="Staff only", priority="high",
        category="other", tags="internal", user_id="individual", is_internal=True),
        dict(status="reopened", assigned_to_id="agent")),
    "G": ("agent", at(7, 9), dict(
        subject="Agent idea", description="Dark mode", priority="low",
        category="feature_request"), dict(resolution_due_at=None)),
    "H": ("individual", at(7, 10), dict(
        subject="Question", description="How do I print 100 pages?", priority="medium",
        tags="report"), {}),
    "I": ("individual", at(7, 10), dict(
        subject="Another question", description="A 50_50 chance", priority="medium",
        category="technical_support"), {}),
}  # fmt: skip
ALL = "ABCDEFGHI"


# One database and app for the whole module: each test makes its own data.
pytestmark = pytest.mark.shared_database


@pytest.fixture(scope="module")
def ids(module_client, module_people):
    """Label -> ticket id of the shared data set."""
    client, people = module_client, module_people
    frozen = FakeClock()
    clock.set_clock(frozen)
    try:
        made = {}
        for label, (creator, created, fields, _) in DATA.items():
            frozen.set(created)
            if "user_id" in fields:
                fields = {**fields, "user_id": people[fields["user_id"]].id}
            made[label] = make_ticket(client, people[creator], **fields)["id"]
        for label, (*_, columns) in DATA.items():
            if "assigned_to_id" in columns:
                columns = {**columns, "assigned_to_id": people[columns["assigned_to_id"]].id}
            if columns:
                set_ticket_columns(client, made[label], **columns)
    finally:
        clock.set_clock(None)
    assert sorted(made.values()) == list(made.values()), "ids follow the filing order"
    return made


def fetch(client, actor, params=None, path=TICKETS):
    response = client.get(path, params=params, headers=actor.headers)
    assert response.status_code == 200, response.text
    assert isinstance(response.json(), list)
    return response


def labels(response, ids):
    by_id = {v: k for k, v in ids.items()}
    return "".join(by_id[t["id"]] for t in response.json())


def newest_first(expected):
    """The default order (-created_at, ties by id): the reverse of the filing order."""
    return "".join(sorted(expected, reverse=True))


def links(response):
    """rel -> URL of an RFC 8288 Link header."""
    header = response.headers.get("Link")
    if header is None:
        return {}
    found = {}
    for part in header.split(","):
        match = re.fullmatch(r'\s*<([^>]*)>\s*;\s*rel="?(\w+)"?\s*', part)
        assert match, header
        found[match.group(2)] = match.group(1)
    return found


# --- shape and scope ----------------------------------------------------------------------


# A filter matching everything: the paging tests below page through a filtered staff list, and
# test_unfiltered_staff_list_counts_and_pages through an unfiltered one (counted differently).
EVERYTHING = {"created_from": "2025-01-01"}


def test_staff_see_every_ticket(client, people, ids):
    for role in ("agent", "super_admin"):
        assert labels(fetch(client, people[role]), ids) == newest_first(ALL)
        response = fetch(client, people[role], EVERYTHING)
        assert labels(response, ids) == newest_first(ALL)
        assert response.headers["X-Total-Count"] == "9"
        assert "Link" not in response.headers


@pytest.mark.parametrize("role", ["agent", "super_admin"])
def test_unfiltered_staff_list_counts_and_pages(client, people, ids, role):
    response = fetch(client, people[role])
    assert response.headers["X-Total-Count"] == "9"
    seen = ""
    for page in (1, 2, 3):
        response = fetch(client, people[role], {"page": page, "page_size": 4})
        assert response.headers["X-Total-Count"] == "9"
        seen += labels(response, ids)
    assert seen == "IHGFEDCBA"


@pytest.mark.parametrize(
    ("role", "expected"),
    [("individual", "ABHI"), ("enterprise", "C"), ("other", "D"), ("sub_user", "E")],
)
def test_customers_see_their_own_and_never_internal(client, people, ids, role, expected):
    for path in (TICKETS, f"{TICKETS}/my"):
        response = fetch(client, people[role], path=path)
        assert labels(response, ids) == newest_first(expected)
        assert response.headers["X-Total-Count"] == str(len(expected))
        assert all(t["is_internal"] is False for t in response.json())


@pytest.mark.parametrize(("role", "expected"), [("agent", "G"), ("super_admin", "")])
def test_my_tickets_of_staff_are_the_ones_they_filed_for_themselves(
    client, people, ids, role, expected
):
    response = fetch(client, people[role], path=f"{TICKETS}/my")
    assert labels(response, ids) == expected
    assert response.headers["X-Total-Count"] == str(len(expected))


def test_my_takes_the_same_filters(client, people, ids):
    response = fetch(client, people["individual"], {"status": "open"}, f"{TICKETS}/my")
    assert labels(response, ids) == "IHA"
    response = fetch(client, people["agent"], {"status": "closed"}, f"{TICKETS}/my")
    assert labels(response, ids) == ""
    response = client.get(f"{TICKETS}/my", params={"page_size": 0}, headers=people["agent"].headers)
    assert response.status_code == 422


def test_lists_need_a_token(client, ids):
    for path in (TICKETS, f"{TICKETS}/my"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"


# --- filters ------------------------------------------------------------------------------

FILTERS = [
    # status: repeatable, comma-separated, any case
    ("agent", {"status": "open"}, "AGHI"),
    ("agent", {"status": ["open", "closed"]}, "AEGHI"),
    ("agent", {"status": "open,closed"}, "AEGHI"),
    ("agent", {"status": " OPEN , Closed ,"}, "AEGHI"),
    ("agent", {"status": ["in_progress,waiting_on_customer", "reopened"]}, "BCF"),
    ("agent", {"status": "resolved"}, "D"),
    ("individual", {"status": "reopened"}, ""),
    ("individual", {"status": ["open", "in_progress"]}, "ABHI"),
    # priority, category
    ("agent", {"priority": "HIGH"}, "BF"),
    ("agent", {"priority": "medium"}, "DEHI"),
    ("individual", {"priority": "high"}, "B"),
    ("agent", {"category": "technical_support"}, "BI"),
    ("agent", {"category": "General_Inquiry"}, "EH"),
    # assignee: an id, me, none
    ("super_admin", {"assigned_to_id": "agent"}, "BDF"),
    ("agent", {"assigned_to_id": "me"}, "BDF"),
    ("super_admin", {"assigned_to_id": "me"}, "C"),
    ("agent", {"assigned_to_id": "none"}, "AEGHI"),
    ("agent", {"assigned_to_id": "NONE"}, "AEGHI"),
    ("individual", {"assigned_to_id": "agent"}, "B"),
    ("individual", {"assigned_to_id": "me"}, ""),
    ("individual", {"assigned_to_id": "none"}, "AHI"),
    # creator
    ("agent", {"user_id": "individual"}, "ABFHI"),
    ("agent", {"user_id": "agent"}, "G"),
    ("individual", {"user_id": "other"}, ""),
    ("individual", {"user_id": "individual"}, "ABHI"),
    # tag (normalized like the stored tags)
    ("agent", {"tag": "report"}, "BEH"),
    ("agent", {"tag": " ERROR "}, "BC"),
    ("agent", {"tag": "nope"}, ""),
    ("individual", {"tag": "internal"}, ""),
    ("agent", {"tag": "internal"}, "F"),
    # q: full-text search (tests/search has every form); sorted here to compare the order
    ("agent", {"q": "printer", "sort": "-created_at"}, "BE"),
    ("agent", {"q": "PRINT*", "sort": "-created_at"}, "BEH"),
    ("agent", {"q": "charged TWICE", "sort": "-created_at"}, "A"),
    ("agent", {"q": "100%", "sort": "-created_at"}, "CH"),
    ("agent", {"q": "file_name", "sort": "-created_at"}, "DE"),
    ("agent", {"q": "'; DROP TABLE tickets; --", "sort": "-created_at"}, ""),
    ("individual", {"q": "print", "sort": "-created_at"}, "H"),
    ("individual", {"q": "audit", "sort": "-created_at"}, ""),
    # created_from / created_to: whole UTC days, both ends inclusive
    ("agent", {"created_from": "2025-01-06", "created_to": "2025-01-06"}, "BCD"),
    ("agent", {"created_from": "2025-01-07"}, "EFGHI"),
    ("agent", {"created_to": "2025-01-05"}, "A"),
    ("agent", {"created_to": "2025-01-06"}, "ABCD"),
    ("agent", {"created_from": "2025-01-08"}, ""),
    ("agent", {"created_from": "2025-01-07", "created_to": "2025-01-06"}, ""),
    ("individual", {"created_from": "2025-01-07"}, "HI"),
    # combinations
    ("agent", {"status": "open", "priority": "low"}, "AG"),
    ("agent", {"q": "bug", "status": "resolved,closed", "sort": "-created_at"}, "DE"),
    ("agent", {"q": "bug", "status": "resolved", "category": "account"}, "D"),
    ("agent", {"assigned_to_id": "me", "priority": "high"}, "BF"),
    ("agent", {"tag": "error", "created_from": "2025-01-06", "created_to": "2025-01-06"}, "BC"),
    ("agent", {"user_id": "individual", "assigned_to_id": "none", "tag": "report"}, "H"),
    ("individual", {"status": "open", "tag": "report"}, "H"),
    ("super_admin", {"status": "open", "priority": "urgent"}, ""),
]


@pytest.mark.parametrize(("role", "params", "expected"), FILTERS)
def test_filters(client, people, ids, role, params, expected):
    params = dict(params)
    for key in ("user_id", "assigned_to_id"):
        if params.get(key) in people:
            params[key] = people[params[key]].id
    response = fetch(client, people[role], params)
    assert labels(response, ids) == newest_first(expected)
    assert response.headers["X-Total-Count"] == str(len(expected))


@pytest.mark.parametrize(
    "params",
    [
        {"status": "bogus"},
        {"status": "open,bogus"},
        {"status": ["open", "nope"]},
        {"priority": "critical"},
        {"category": "misc"},
        {"assigned_to_id": "someone"},
        {"assigned_to_id": "0"},
        {"assigned_to_id": "-3"},
        {"assigned_to_id": "99999999999"},
        {"user_id": "0"},
        {"user_id": "abc"},
        {"user_id": "99999999999"},
        {"created_from": "2025-13-01"},
        {"created_to": "yesterday"},
        {"sla": "ok"},
        {"sort": "subject"},
        {"sort": "-due"},
        {"sort": "id"},
        {"page": "0"},
        {"page": "-1"},
        {"page": "abc"},
        {"page_size": "0"},
        {"page_size": "101"},
        {"page_size": "-5"},
        {"q": "a\x00b"},
        {"q": "%"},
        {"q": "-excluded"},
        {"tag": "a\x00b"},
    ],
)
@pytest.mark.parametrize("role", ["agent", "individual"])
def test_bad_query_parameters_are_422(client, people, ids, params, role):
    for path in (TICKETS, f"{TICKETS}/my"):
        response = client.get(path, params=params, headers=people[role].headers)
        assert response.status_code == 422, (path, response.text)
        assert isinstance(response.json()["detail"], list)


# --- SLA filter ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "staff", "customer"),
    [
        # B answered in time (00:30 < 01:00): no breach until its resolution is due at 08:00.
        (at(6, 3), "", ""),
        # A's first response was due at 07:59:59; B's resolution at 08:00.
        (at(6, 8, 0, 0), "A", "A"),
        (at(6, 8, 0, 1), "AB", "AB"),
        # D (medium, filed 23:59:59) is due at 03:59:59; E (medium, midnight) exactly at 04:00.
        (at(7, 4), "ABCD", "AB"),
        (at(7, 4, 0, 1), "ABCDE", "AB"),
    ],
)
def test_sla_breached(client, people, ids, fake_clock, now, staff, customer):
    fake_clock.set(now)
    response = fetch(client, people["agent"], {"sla": "breached"})
    assert labels(response, ids) == newest_first(staff)
    own = fetch(client, people["individual"], {"sla": "breached"})
    assert labels(own, ids) == newest_first(customer)
    # The filter agrees with the flags of the representation.
    for ticket in fetch(client, people["agent"]).json():
        flagged = ticket["sla_first_response_breached"] or ticket["sla_resolution_breached"]
        assert flagged is (ticket["id"] in [ids[label] for label in staff]), ticket["id"]


def test_sla_filter_combines(client, people, ids, fake_clock):
    fake_clock.set(at(7, 4, 0, 1))
    response = fetch(client, people["agent"], {"sla": "breached", "status": "closed,resolved"})
    assert labels(response, ids) == "ED"


# --- sorting ------------------------------------------------------------------------------

SORTS = [
    ("created_at", "ABCDEFGHI"),
    ("-created_at", "IHGFEDCBA"),
    ("updated_at", "BDEFGHICA"),
    ("-updated_at", "ACIHGFEDB"),
    # Ascending priority runs low, medium, high, urgent (documented in the README).
    ("priority", "AGDEHIBFC"),
    ("-priority", "CFBIHEDGA"),
    ("PRIORITY", "AGDEHIBFC"),
    # Soonest resolution due first, ties by id, tickets without a due time last.
    ("due", "BCFADEHIG"),
]


@pytest.mark.parametrize(("sort", "expected"), SORTS)
def test_sorts(client, people, ids, sort, expected):
    response = fetch(client, people["super_admin"], {"sort": sort})
    assert labels(response, ids) == expected


def test_default_sort_is_newest_first(client, people, ids):
    response = fetch(client, people["agent"])
    assert labels(response, ids) == "IHGFEDCBA"


@pytest.mark.parametrize(("sort", "expected"), SORTS)
def test_customer_sorts(client, people, ids, sort, expected):
    response = fetch(client, people["individual"], {"sort": sort})
    assert labels(response, ids) == "".join(c for c in expected if c in "ABHI")


@pytest.mark.parametrize(("sort", "expected"), SORTS)
def test_pages_follow_the_sort_without_overlap(client, people, ids, sort, expected):
    seen = ""
    for page in (1, 2, 3, 4, 5):
        params = {**EVERYTHING, "sort": sort, "page": page, "page_size": 2}
        response = fetch(client, people["agent"], params)
        seen += labels(response, ids)
    assert seen == expected


# --- paging -------------------------------------------------------------------------------


def test_link_headers(client, people, ids):
    agent = people["agent"]
    params = {"page_size": 4, "status": "open,closed,in_progress,resolved,reopened,"}
    params["status"] += "waiting_on_customer"
    first = fetch(client, agent, params)
    assert labels(first, ids) == "IHGF"
    assert first.headers["X-Total-Count"] == "9"
    assert set(links(first)) == {"next"}
    # Follow `next` to the end: keyset cursors that keep every other parameter.
    seen, response, pages = labels(first, ids), first, 1
    while "next" in links(response):
        url = links(response)["next"]
        query = parse_qs(urlsplit(url).query)
        assert query["page_size"] == ["4"]
        assert query["status"] == [params["status"]]
        assert "page" not in query
        assert query["cursor"]
        response = client.get(url, headers=agent.headers)
        assert response.headers["X-Total-Count"] == "9"
        pages += 1
        seen += labels(response, ids)
    assert pages == 3
    assert seen == "IHGFEDCBA"
    assert "Link" not in response.headers
    # Page numbers still work, with `prev` and a `next` cursor.
    second = fetch(client, agent, {**params, "page": 2})
    assert labels(second, ids) == "EDCB"
    assert set(links(second)) == {"next", "prev"}
    back = client.get(links(second)["prev"], headers=agent.headers)
    assert labels(back, ids) == "IHGF"
    onward = client.get(links(second)["next"], headers=agent.headers)
    assert labels(onward, ids) == "A"


@pytest.mark.parametrize(
    "sort",
    ["created_at", "-created_at", "updated_at", "-updated_at", "priority", "-priority", "due"],
)
def test_cursor_pages_walk_every_order(client, people, ids, sort):
    """Following `next` gives the same sequence as page numbers, in every order."""
    agent = people["agent"]
    by_pages = ""
    for page in (1, 2, 3, 4, 5):
        response = fetch(client, agent, {**EVERYTHING, "sort": sort, "page": page, "page_size": 2})
        by_pages += labels(response, ids)
    response = fetch(client, agent, {**EVERYTHING, "sort": sort, "page_size": 2})
    by_cursor = labels(response, ids)
    while "next" in links(response):
        response = client.get(links(response)["next"], headers=agent.headers)
        by_cursor += labels(response, ids)
    assert by_cursor == by_pages


def test_a_foreign_cursor_is_a_422(client, people, ids):
    agent = people["agent"]
    first = fetch(client, agent, {**EVERYTHING, "sort": "created_at", "page_size": 2})
    cursor = parse_qs(urlsplit(links(first)["next"]).query)["cursor"][0]
    for bad in (cursor, "garbage", "e30"):
        params = {**EVERYTHING, "sort": "-priority", "cursor": bad}
        response = client.get(TICKETS, params=params, headers=agent.headers)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_no_link_header_when_everything_fits(client, people, ids):
    for params in ({}, {"page_size": 9}, {"page_size": 100}):
        response = fetch(client, people["agent"], {**EVERYTHING, **params})
        assert "Link" not in response.headers
        assert len(response.json()) == 9
    response = fetch(client, people["agent"], {**EVERYTHING, "page_size": 8})
    assert set(links(response)) == {"next"}


def test_page_past_the_end_is_empty(client, people, ids):
    for page in (4, 1000):
        response = fetch(client, people["agent"], {**EVERYTHING, "page": page, "page_size": 3})
        assert response.json() == []
        assert response.headers["X-Total-Count"] == "9"
        assert "next" not in links(response)
        prev = parse_qs(urlsplit(links(response)["prev"]).query)
        assert prev["page"] == [str(page - 1)]
    # A page number no database integer holds is still just past the end, not an error.
    for role in ("agent", "individual"):
        huge = fetch(client, people[role], {**EVERYTHING, "page": 10**20, "page_size": 100})
        assert huge.json() == []
        # An offset past 32 bits but within 64 reaches the database, and finds nothing there.
        for path in ("", "/my"):
            deep = client.get(
                f"{TICKETS}{path}", params={"page": 2**40}, headers=people[role].headers
            )
            assert deep.status_code == 200, deep.text
            assert deep.json() == []
    response = fetch(client, people["sub_user"], {"page": 2})
    assert response.json() == []
    assert response.headers["X-Total-Count"] == "1"


def test_page_size_bounds(client, people, ids):
    agent = people["agent"]
    assert len(fetch(client, agent, {**EVERYTHING, "page_size": 1}).json()) == 1
    assert len(fetch(client, agent, {**EVERYTHING, "page_size": 100}).json()) == 9
    assert len(fetch(client, agent, {**EVERYTHING, "page_size": 5, "page": 2}).json()) == 4
    individual = people["individual"]
    assert labels(fetch(client, individual, {"page_size": 3, "page": 2}), ids) == "A"
