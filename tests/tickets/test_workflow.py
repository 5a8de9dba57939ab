"""The status machine of workflow.py against the table of API.md ("Status"). Pure: no HTTP."""

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from ticketdesk.tickets import workflow
from ticketdesk.tickets.models import Status

# API.md, "Status", written out as it stands there.
API_TABLE = {
    "open": {"in_progress", "waiting_on_customer", "resolved", "closed"},
    "in_progress": {"waiting_on_customer", "resolved", "closed"},
    "waiting_on_customer": {"in_progress", "resolved", "closed"},
    "resolved": {"closed", "reopened", "in_progress"},
    "closed": {"reopened"},
    "reopened": {"in_progress", "waiting_on_customer", "resolved", "closed"},
}
DISPLAY_ORDER = ["open", "in_progress", "waiting_on_customer", "resolved", "closed", "reopened"]
ALL_PAIRS = list(product(DISPLAY_ORDER, DISPLAY_ORDER))

NOW = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
EARLIER_RESOLVED = NOW - timedelta(hours=5)
EARLIER_CLOSED = NOW - timedelta(hours=2)


@pytest.fixture(autouse=True)
def clean_database():
    """Pure tests: no database to empty (overrides the conftest fixture of the same name)."""


def test_transitions_equal_the_api_table_exactly():
    as_strings = {str(k): {str(v) for v in targets} for k, targets in workflow.TRANSITIONS.items()}
    assert as_strings == API_TABLE


def test_every_status_has_an_entry_and_none_may_follow_itself():
    assert set(workflow.TRANSITIONS) == set(Status)
    for status, targets in workflow.TRANSITIONS.items():
        assert status not in targets


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS)
def test_is_allowed_follows_the_table(current, target):
    assert workflow.is_allowed(Status(current), Status(target)) is (target in API_TABLE[current])


@pytest.mark.parametrize("current", DISPLAY_ORDER)
def test_allowed_targets_are_the_table_row_in_display_order(current):
    targets = workflow.allowed_targets(Status(current))
    assert targets == [s for s in DISPLAY_ORDER if s in API_TABLE[current]]
    assert all(isinstance(t, Status) for t in targets)


def test_customer_transitions_are_confirm_and_reopen_only():
    assert {(str(a), str(b)) for a, b in workflow.CUSTOMER_TRANSITIONS} == {
        ("resolved", "closed"),
        ("resolved", "reopened"),
        ("closed", "reopened"),
    }
    # Each is a transition the machine allows at all.
    for current, target in workflow.CUSTOMER_TRANSITIONS:
        assert workflow.is_allowed(current, target)


def test_awaiting_staff_are_open_and_reopened():
    assert {str(s) for s in workflow.AWAITING_STAFF} == {"open", "reopened"}


# The stamps every allowed transition leaves, starting from the stamps the `from` status
# carries in real use (resolved: resolved_at; closed: both; the others: none).
R, C = EARLIER_RESOLVED, EARLIER_CLOSED
REALISTIC_BEFORE = {
    "open": (None, None),
    "in_progress": (None, None),
    "waiting_on_customer": (None, None),
    "resolved": (R, None),
    "closed": (R, C),
    "reopened": (None, None),
}
EXPECTED_AFTER = {
    ("open", "in_progress"): (None, None),
    ("open", "waiting_on_customer"): (None, None),
    ("open", "resolved"): (NOW, None),
    ("open", "closed"): (NOW, NOW),
    ("in_progress", "waiting_on_customer"): (None, None),
    ("in_progress", "resolved"): (NOW, None),
    ("in_progress", "closed"): (NOW, NOW),
    ("waiting_on_customer", "in_progress"): (None, None),
    ("waiting_on_customer", "resolved"): (NOW, None),
    ("waiting_on_customer", "closed"): (NOW, NOW),
    ("resolved", "closed"): (R, NOW),
    ("resolved", "reopened"): (None, None),
    ("resolved", "in_progress"): (None, None),
    ("closed", "reopened"): (None, None),
    ("reopened", "in_progress"): (None, None),
    ("reopened", "waiting_on_customer"): (None, None),
    ("reopened", "resolved"): (NOW, None),
    ("reopened", "closed"): (NOW, NOW),
}


def test_expected_stamps_cover_exactly_the_allowed_pairs():
    assert set(EXPECTED_AFTER) == {(a, b) for a, b in ALL_PAIRS if b in API_TABLE[a]}


@pytest.mark.parametrize(("current", "target"), sorted(EXPECTED_AFTER))
def test_stamps_of_every_allowed_transition(current, target):
    resolved_at, closed_at = REALISTIC_BEFORE[current]
    after = workflow.stamps(Status(current), Status(target), NOW, resolved_at, closed_at)
    assert after == EXPECTED_AFTER[(current, target)]


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS)
@pytest.mark.parametrize("before", [(None, None), (R, None), (R, C)], ids=["none", "r", "rc"])
def test_stamps_rules_hold_for_every_pair_and_prior_stamps(current, target, before):
    """API.md: resolved sets resolved_at, closed sets closed_at, reopened clears both.

    Beyond API.md (workflow.stamps' docstring): closing a never-resolved ticket stamps
    resolved_at too; leaving `resolved` for work clears resolved_at; nothing else moves.
    """
    resolved_at, closed_at = workflow.stamps(Status(current), Status(target), NOW, *before)
    if target == "resolved":
        assert (resolved_at, closed_at) == (NOW, before[1])
    elif target == "closed":
        assert closed_at == NOW
        assert resolved_at == (before[0] or NOW)
    elif target == "reopened":
        assert (resolved_at, closed_at) == (None, None)
    elif current == "resolved":
        assert (resolved_at, closed_at) == (None, before[1])
    else:
        assert (resolved_at, closed_at) == before


def test_stamps_is_pure():
    args = (Status.RESOLVED, Status.CLOSED, NOW, R, None)
    assert workflow.stamps(*args) == workflow.stamps(*args) == (R, NOW)
