"""The UTC day ranges that date filters (tickets, statistics) are built from."""

from datetime import UTC, date, datetime

import pytest

from ticketdesk import clock

pytestmark = pytest.mark.shared_database  # pure functions: no database needed


def test_a_range_covers_both_days_whole():
    assert clock.day_range(date(2025, 1, 6), date(2025, 1, 7)) == (
        datetime(2025, 1, 6, tzinfo=UTC),
        datetime(2025, 1, 8, tzinfo=UTC),
    )


def test_missing_ends_are_open():
    assert clock.day_range(None, None) == (None, None)
    assert clock.day_range(date(2025, 1, 6), None) == (datetime(2025, 1, 6, tzinfo=UTC), None)


def test_the_last_date_there_is_leaves_the_range_open():
    assert clock.day_range(date.min, date.max) == (datetime(1, 1, 1, tzinfo=UTC), None)
