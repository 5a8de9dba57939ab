"""Business-time arithmetic, checked by hand and against a minute-stepping oracle.

The oracle applies the definition literally: a UTC minute is business time iff, read in
the calendar's zone, its local date is not a holiday and its local time of day lies in
one of that weekday's windows. Calendars in the property tests use quarter-hour windows
and zones whose offsets are whole minutes, so business time is constant within each
whole UTC minute and the oracle is exact for minute-aligned starts and durations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticketdesk.sla.calendar import (
    DEFAULT_CALENDAR,
    END_OF_DAY,
    WEEKDAYS,
    BusinessCalendar,
    CalendarError,
)

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

# UTC instants of offset changes, to aim random starts at the awkward days.
TRANSITIONS = {
    "Europe/Berlin": ["2018-10-28T01:00", "2025-03-30T01:00", "2025-10-26T01:00"],
    "America/New_York": ["2018-11-04T06:00", "2025-03-09T07:00", "2025-11-02T06:00"],
    "Australia/Lord_Howe": ["2019-10-05T15:30", "2025-04-05T15:00", "2025-10-04T15:30"],
    "America/Sao_Paulo": ["2018-02-18T02:00", "2018-11-04T03:00", "2019-02-17T02:00"],
    # Changes at 00:01 local: the repeated hour(s) straddle midnight, so dates interleave.
    "America/Goose_Bay": ["2010-11-07T03:01", "2011-03-13T04:01"],
    "America/St_Johns": ["1988-10-30T01:31"],
    "Asia/Kolkata": [],
    "UTC": [],
}
ZONES = sorted(TRANSITIONS)


# --- the oracle ---------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """A calendar described independently of the module: windows in minutes of the day."""

    zone: str
    windows: tuple[tuple[tuple[int, int], ...], ...]  # per weekday, Monday first; end <= 1440
    holidays: frozenset[date] = frozenset()

    def weekly_config(self) -> dict[str, list[list[str]]]:
        """The windows in the API shape."""
        return {
            name: [[hhmm(start), hhmm(end)] for start, end in day]
            for name, day in zip(WEEKDAYS, self.windows, strict=True)
            if day
        }

    def calendar(self) -> BusinessCalendar:
        """The module's calendar for this spec."""
        return BusinessCalendar.from_config(self.zone, self.weekly_config(), self.holidays)


def hhmm(minutes: int) -> str:
    """Minutes of the day as HH:MM (1440 -> 24:00)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def is_business(spec: Spec, instant: datetime) -> bool:
    """The definition, applied to one instant."""
    local = instant.astimezone(ZoneInfo(spec.zone))
    if local.date() in spec.holidays:
        return False
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in spec.windows[local.weekday()])


def minute_flags(spec: Spec, start: datetime, count: int) -> list[bool]:
    """Whether each of the `count` UTC minutes from start is business time."""
    return [is_business(spec, start + k * MINUTE) for k in range(count)]


def oracle_add(flags: list[bool], start: datetime, minutes: int) -> datetime:
    """The end of the minute in which the elapsed business minutes reach `minutes`."""
    if minutes == 0:
        return start
    for index, elapsed in enumerate(accumulate(flags)):
        if elapsed == minutes:
            return start + (index + 1) * MINUTE
    raise AssertionError("oracle horizon too short")


def parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- strategies -----------------------------------------------------------------------

QUARTER = st.one_of(st.sampled_from([0, 1, 4, 8, 12, 92, 95, 96]), st.integers(0, 96))


@st.composite
def day_windows(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
    """0-3 sorted, non-overlapping quarter-hour windows; a boundary of 96 is 24:00."""
    count = draw(st.integers(0, 3))
    points = sorted(draw(st.lists(QUARTER, min_size=2 * count, max_size=2 * count, unique=True)))
    return tuple((points[i] * 15, points[i + 1] * 15) for i in range(0, len(points), 2))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Spec, datetime]:
    """A random calendar with holidays near a random minute-aligned start."""
    zone = draw(st.sampled_from(ZONES))
    near = TRANSITIONS[zone]
    aim_at_change = draw(st.booleans())
    if near and aim_at_change:
        base = parse_utc(draw(st.sampled_from(near)))
        start = base + draw(st.integers(-3 * 1440, 1440)) * MINUTE
    else:
        start = datetime(2017, 1, 1, tzinfo=UTC) + draw(st.integers(0, 11 * 365 * 1440)) * MINUTE
    windows = list(draw(st.lists(day_windows(), min_size=7, max_size=7)))
    if not any(windows):
        windows[draw(st.integers(0, 6))] = ((9 * 60, 17 * 60),)
    local_day = start.astimezone(ZoneInfo(zone)).date()
    offsets = draw(st.sets(st.integers(-2, 12), max_size=4))
    holidays = frozenset(local_day + timedelta(days=k) for k in offsets)
    return Spec(zone, tuple(windows), holidays), start


ORACLE_HORIZON = 10 * 1440  # minutes


# --- property tests -------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(scenario=scenarios(), data=st.data())
def test_add_and_between_match_the_minute_oracle(
    scenario: tuple[Spec, datetime], data: st.DataObject
) -> None:
    spec, start = scenario
    calendar = spec.calendar()
    flags = minute_flags(spec, start, ORACLE_HORIZON)
    available = sum(flags)

    minutes = data.draw(st.integers(0, min(available, 3 * 1440)), label="minutes")
    due = calendar.add(start, minutes * MINUTE)
    assert due == oracle_add(flags, start, minutes)
    assert calendar.between(start, due) == minutes * MINUTE

    span = data.draw(st.integers(0, ORACLE_HORIZON), label="span")
    assert calendar.between(start, start + span * MINUTE) == sum(flags[:span]) * MINUTE


durations = st.integers(0, 4 * 86_400 * 10**6).map(lambda us: timedelta(microseconds=us))


@settings(max_examples=150, deadline=None)
@given(
    scenario=scenarios(),
    jitter=st.integers(0, 60 * 10**6 - 1),
    first=durations,
    second=durations,
)
def test_add_is_inverse_of_between_monotone_and_additive(
    scenario: tuple[Spec, datetime], jitter: int, first: timedelta, second: timedelta
) -> None:
    spec, aligned = scenario
    calendar = spec.calendar()
    start = aligned + timedelta(microseconds=jitter)  # microsecond precision, off the minute
    short, long = sorted((first, second))

    due_short, due_long = calendar.add(start, short), calendar.add(start, long)

    assert due_short.tzinfo is UTC
    assert start <= due_short <= due_long
    assert calendar.between(start, due_short) == short
    assert calendar.between(start, due_long) == long
    assert calendar.add(due_short, long - short) == due_long
    assert calendar.between(start, due_long) == (
        calendar.between(start, due_short) + calendar.between(due_short, due_long)
    )


@settings(max_examples=100, deadline=None)
@given(scenario=scenarios())
def test_to_config_round_trips(scenario: tuple[Spec, datetime]) -> None:
    calendar = scenario[0].calendar()
    config = calendar.to_config()
    assert list(config["weekly"]) == list(WEEKDAYS)
    rebuilt = BusinessCalendar.from_config(config["timezone"], config["weekly"], config["holidays"])
    assert rebuilt == calendar
    assert rebuilt.to_config() == config


# --- deterministic oracle sweep over the offset changes --------------------------------

AWKWARD_WINDOWS = ((0, 60), (90, 135), (150, 225), (1320, 1440))  # 00:00-01:00, ... 22:00-24:00


@pytest.mark.parametrize(
    "zone, instant",
    [(zone, instant) for zone, instants in TRANSITIONS.items() for instant in instants],
)
def test_transition_days_match_the_oracle(zone: str, instant: str) -> None:
    spec = Spec(zone, (AWKWARD_WINDOWS,) * 7)
    calendar = spec.calendar()
    start = parse_utc(instant) - 2 * timedelta(days=1)
    flags = minute_flags(spec, start, 4 * 1440)
    assert calendar.between(start, start + 4 * timedelta(days=1)) == sum(flags) * MINUTE
    for minutes in range(0, sum(flags) + 1, 7):
        assert calendar.add(start, minutes * MINUTE) == oracle_add(flags, start, minutes)


# --- DST days checked by hand -----------------------------------------------------------


def every_day(*windows: list[str]) -> dict[str, list[list[str]]]:
    return {name: list(windows) for name in WEEKDAYS}


def local_day_length(calendar: BusinessCalendar, day: date) -> timedelta:
    """Business time between the local midnights that bound `day`."""
    zone = ZoneInfo(calendar.timezone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    return calendar.between(start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone))


@pytest.mark.parametrize(
    "zone, day, night_hours",
    [
        ("Europe/Berlin", date(2025, 3, 30), timedelta(hours=5)),
        ("Europe/Berlin", date(2025, 10, 26), timedelta(hours=7)),
        ("America/New_York", date(2025, 3, 9), timedelta(hours=5)),
        ("America/New_York", date(2025, 11, 2), timedelta(hours=7)),
        ("Australia/Lord_Howe", date(2025, 4, 6), timedelta(hours=6, minutes=30)),
        ("Australia/Lord_Howe", date(2025, 10, 5), timedelta(hours=5, minutes=30)),
        ("Europe/Berlin", date(2025, 3, 29), timedelta(hours=6)),
    ],
)
def test_windows_containing_the_change_stretch_or_shrink(
    zone: str, day: date, night_hours: timedelta
) -> None:
    night = BusinessCalendar.from_config(zone, every_day(["00:00", "06:00"]))
    office = BusinessCalendar.from_config(zone, every_day(["09:00", "17:00"]))
    assert local_day_length(night, day) == night_hours
    assert local_day_length(office, day) == 8 * HOUR


def test_berlin_spring_forward_counts_from_the_skipped_hour() -> None:
    night = BusinessCalendar.from_config("Europe/Berlin", every_day(["00:00", "06:00"]))
    midnight = datetime(2025, 3, 30, tzinfo=BERLIN)  # 2025-03-29 23:00 UTC
    assert night.add(midnight, 2 * HOUR) == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)
    # 02:00 local never happens; the next minute of business time is 03:00-03:01 CEST.
    assert night.add(midnight, 2 * HOUR + MINUTE) == datetime(2025, 3, 30, 1, 1, tzinfo=UTC)
    assert night.add(midnight, 5 * HOUR) == datetime(2025, 3, 30, 4, 0, tzinfo=UTC)


def test_window_in_the_repeated_hour_becomes_two_utc_intervals() -> None:
    calendar = BusinessCalendar.from_config("Europe/Berlin", every_day(["02:30", "04:00"]))
    day = datetime(2025, 10, 26, tzinfo=UTC)
    # 02:30-03:00 CEST is 00:30-01:00 UTC, then 02:30-04:00 CET is 01:30-03:00 UTC.
    assert calendar.between(day, day + timedelta(days=1)) == 2 * HOUR
    assert calendar.add(day, 30 * MINUTE) == datetime(2025, 10, 26, 1, 0, tzinfo=UTC)
    assert calendar.add(day, 31 * MINUTE) == datetime(2025, 10, 26, 1, 31, tzinfo=UTC)
    gap_side = datetime(2025, 3, 30, tzinfo=UTC)
    assert calendar.between(gap_side, gap_side + timedelta(days=1)) == HOUR  # 02:30-03:00 skipped


def test_sao_paulo_midnight_changes() -> None:
    late = BusinessCalendar.from_config("America/Sao_Paulo", every_day(["23:00", "24:00"]))
    early = BusinessCalendar.from_config("America/Sao_Paulo", every_day(["00:00", "06:00"]))
    # 2019-02-17 00:00 -02 fell back to 2019-02-16 23:00 -03: that 23:00-24:00 ran twice.
    assert local_day_length(late, date(2019, 2, 16)) == 2 * HOUR
    # 2018-11-04 00:00 -03 sprang to 01:00 -02: that date's midnight never happened.
    assert local_day_length(early, date(2018, 11, 4)) == 5 * HOUR


def test_fall_back_straddling_midnight_interleaves_two_dates() -> None:
    calendar = BusinessCalendar.from_config(
        "America/Goose_Bay", {"sat": [["23:00", "24:00"]], "sun": [["00:00", "01:00"]]}
    )
    # 2010-11-07 00:01 -03 fell back to 2010-11-06 23:01 -04. In UTC order: Saturday
    # 23:00-24:00 (02:00-03:00Z), Sunday 00:00-00:01 (03:00-03:01Z), Saturday 23:01-24:00
    # again (03:01-04:00Z), Sunday 00:00-01:00 again (04:00-05:00Z).
    start = datetime(2010, 11, 7, 2, 0, tzinfo=UTC)
    assert calendar.add(start, 61 * MINUTE) == datetime(2010, 11, 7, 3, 1, tzinfo=UTC)
    assert calendar.add(start, 62 * MINUTE) == datetime(2010, 11, 7, 3, 2, tzinfo=UTC)
    assert calendar.add(start, 2 * HOUR) == datetime(2010, 11, 7, 4, 0, tzinfo=UTC)
    assert calendar.between(start, datetime(2010, 11, 8, tzinfo=UTC)) == 3 * HOUR
    # Starting on Sunday 00:00 local, Saturday's repeated hour still lies ahead.
    sunday = datetime(2010, 11, 7, 3, 0, 30, tzinfo=UTC)
    assert calendar.add(sunday, MINUTE) == datetime(2010, 11, 7, 3, 1, 30, tzinfo=UTC)
    assert calendar.between(sunday, datetime(2010, 11, 8, tzinfo=UTC)) == 2 * HOUR - 30 * SECOND


def test_a_skipped_date_contributes_nothing() -> None:
    always = BusinessCalendar.from_config("Pacific/Apia", every_day(["00:00", "24:00"]))
    zone = ZoneInfo("Pacific/Apia")
    start = datetime(2011, 12, 29, tzinfo=zone)
    end = datetime(2011, 12, 31, tzinfo=zone)  # 2011-12-30 does not exist in Samoa
    assert always.between(start, end) == timedelta(days=1)
    assert always.add(start, timedelta(days=1)) == end.astimezone(UTC)


# --- ordinary arithmetic ----------------------------------------------------------------


def test_default_calendar_is_weekdays_nine_to_five_utc() -> None:
    config = DEFAULT_CALENDAR.to_config()
    assert config["timezone"] == "UTC"
    assert config["holidays"] == []
    assert config["weekly"] == {
        name: [["09:00", "17:00"]] if name not in ("sat", "sun") else [] for name in WEEKDAYS
    }


def test_friday_afternoon_rolls_over_the_weekend() -> None:
    friday = datetime(2025, 1, 3, 16, 0, tzinfo=UTC)
    assert DEFAULT_CALENDAR.add(friday, 2 * HOUR) == datetime(2025, 1, 6, 10, 0, tzinfo=UTC)
    assert DEFAULT_CALENDAR.between(friday, datetime(2025, 1, 6, 10, tzinfo=UTC)) == 2 * HOUR


def test_due_time_lands_on_the_closing_boundary_not_the_next_opening() -> None:
    monday = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    assert DEFAULT_CALENDAR.add(monday, 8 * HOUR) == datetime(2025, 1, 6, 17, 0, tzinfo=UTC)
    assert DEFAULT_CALENDAR.add(monday, 8 * HOUR + timedelta(microseconds=1)) == datetime(
        2025, 1, 7, 9, 0, 0, 1, tzinfo=UTC
    )


def test_start_outside_hours_counts_from_the_next_opening() -> None:
    saturday = datetime(2025, 1, 4, 12, 0, tzinfo=UTC)
    early_monday = datetime(2025, 1, 6, 7, 30, tzinfo=UTC)
    assert DEFAULT_CALENDAR.add(saturday, HOUR) == datetime(2025, 1, 6, 10, 0, tzinfo=UTC)
    assert DEFAULT_CALENDAR.add(early_monday, HOUR) == datetime(2025, 1, 6, 10, 0, tzinfo=UTC)
    assert DEFAULT_CALENDAR.between(saturday, early_monday) == timedelta(0)


def test_zero_duration_returns_the_start_even_outside_hours() -> None:
    saturday_berlin = datetime(2025, 1, 4, 12, 0, tzinfo=BERLIN)
    due = DEFAULT_CALENDAR.add(saturday_berlin, timedelta(0))
    assert due == saturday_berlin
    assert due.tzinfo is UTC


def test_result_is_utc_for_any_aware_start() -> None:
    start = datetime(2025, 1, 6, 4, 0, tzinfo=NEW_YORK)  # 09:00 UTC
    due = DEFAULT_CALENDAR.add(start, 90 * MINUTE)
    assert due == datetime(2025, 1, 6, 10, 30, tzinfo=UTC)
    assert due.tzinfo is UTC


def test_holidays_are_skipped() -> None:
    calendar = BusinessCalendar.from_config(
        "UTC",
        {name: [["09:00", "17:00"]] for name in WEEKDAYS[:5]},
        ["2025-12-25", date(2025, 12, 26)],
    )
    christmas_eve = datetime(2025, 12, 24, 16, 0, tzinfo=UTC)
    assert calendar.add(christmas_eve, 2 * HOUR) == datetime(2025, 12, 29, 10, 0, tzinfo=UTC)
    assert calendar.between(christmas_eve, datetime(2025, 12, 29, tzinfo=UTC)) == HOUR


def test_holidays_are_local_dates() -> None:
    calendar = BusinessCalendar.from_config(
        "America/New_York", every_day(["00:00", "24:00"]), ["2025-07-04"]
    )
    # 2025-07-04 in New York is 04:00 UTC on the 4th to 04:00 UTC on the 5th.
    start = datetime(2025, 7, 4, 3, 0, tzinfo=UTC)
    assert calendar.add(start, 2 * HOUR) == datetime(2025, 7, 5, 5, 0, tzinfo=UTC)


def test_sparse_calendar_spans_many_weeks() -> None:
    wednesdays = BusinessCalendar.from_config("Europe/Berlin", {"wed": [["10:00", "10:30"]]})
    start = datetime(2025, 1, 1, 10, 0, tzinfo=BERLIN)  # a Wednesday
    due = wednesdays.add(start, 10 * HOUR)  # 20 half-hours: the 20th Wednesday, after DST
    assert due == datetime(2025, 5, 14, 10, 30, tzinfo=BERLIN)
    assert due == datetime(2025, 5, 14, 8, 30, tzinfo=UTC)
    assert wednesdays.between(start, due) == 10 * HOUR


def test_touching_windows_join_up() -> None:
    split = BusinessCalendar.from_config("UTC", {"mon": [["12:00", "13:00"], ["09:00", "12:00"]]})
    assert split.weekly[0] == ((time(9), time(12)), (time(12), time(13)))
    monday = datetime(2025, 1, 6, 11, 0, tzinfo=UTC)
    assert split.add(monday, 2 * HOUR) == datetime(2025, 1, 6, 13, 0, tzinfo=UTC)


def test_end_of_day_runs_to_the_next_midnight() -> None:
    calendar = BusinessCalendar.from_config("UTC", {"mon": [["22:00", "24:00"]], "tue": []})
    assert calendar.weekly[0] == ((time(22), END_OF_DAY),)
    monday_night = datetime(2025, 1, 6, 22, 0, tzinfo=UTC)
    assert calendar.add(monday_night, 2 * HOUR) == datetime(2025, 1, 7, 0, 0, tzinfo=UTC)
    assert calendar.between(monday_night, datetime(2025, 1, 8, tzinfo=UTC)) == 2 * HOUR


def test_between_is_zero_for_reversed_or_empty_ranges() -> None:
    start = datetime(2025, 1, 6, 10, 0, tzinfo=UTC)
    assert DEFAULT_CALENDAR.between(start, start) == timedelta(0)
    assert DEFAULT_CALENDAR.between(start, start - HOUR) == timedelta(0)


def test_between_over_a_long_span_counts_every_week() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday
    assert DEFAULT_CALENDAR.between(start, start + timedelta(weeks=52)) == 52 * 40 * HOUR


def test_all_open_days_being_holidays_raises_instead_of_hanging() -> None:
    first = date(2025, 1, 1)
    holidays = [first + timedelta(days=k) for k in range(11 * 366)]
    calendar = BusinessCalendar.from_config("UTC", {"mon": [["09:00", "17:00"]]}, holidays)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(CalendarError, match="no business time"):
        calendar.add(start, HOUR)
    assert calendar.between(start, start + timedelta(days=365)) == timedelta(0)


# --- rejected input -------------------------------------------------------------------


@pytest.mark.parametrize(
    "weekly, fragments",
    [
        ({"fri": [["22:00", "02:00"]]}, ["fri", "22:00-24:00", "00:00-02:00", "sat"]),
        ({"sun": [["23:00", "01:00"]]}, ["sun", "23:00-24:00", "00:00-01:00", "mon"]),
        ({"tue": [["09:00", "12:00"], ["11:00", "13:00"]]}, ["tue", "overlap"]),
        ({"wed": [["09:00", "09:00"]]}, ["wed", "empty"]),
        ({"thu": [["22:00", "00:00"]]}, ["thu", "24:00"]),
        ({"mon": [["9:00", "17:00"]]}, ["mon", "HH:MM"]),
        ({"mon": [["09:00", "25:00"]]}, ["mon", "out of range"]),
        ({"mon": [["09:60", "17:00"]]}, ["mon", "out of range"]),
        ({"mon": [["24:00", "24:00"]]}, ["mon", "only end"]),
        ({"mon": [["09:00"]]}, ["mon", "pair"]),
        ({"mon": [[9, 17]]}, ["mon", "HH:MM"]),
        ({}, ["no open window"]),
        ({name: [] for name in WEEKDAYS}, ["no open window"]),
        ({"monday": [["09:00", "17:00"]]}, ["unknown weekday", "monday"]),
    ],
)
def test_from_config_rejects_unusable_weeks(weekly: object, fragments: list[str]) -> None:
    with pytest.raises(CalendarError) as caught:
        BusinessCalendar.from_config("Europe/Berlin", weekly)  # type: ignore[arg-type]
    for fragment in fragments:
        assert fragment in str(caught.value)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../etc/passwd", "Europe"])
def test_from_config_rejects_unknown_zones(zone: str) -> None:
    with pytest.raises(CalendarError, match="time zone"):
        BusinessCalendar.from_config(zone, {"mon": [["09:00", "17:00"]]})


@pytest.mark.parametrize("holiday", ["2025-13-01", "next friday", 20251225])
def test_from_config_rejects_bad_holidays(holiday: object) -> None:
    with pytest.raises(CalendarError, match="holiday"):
        BusinessCalendar.from_config("UTC", {"mon": [["09:00", "17:00"]]}, [holiday])  # type: ignore[list-item]


def test_calendar_error_is_a_value_error() -> None:
    assert issubclass(CalendarError, ValueError)


def test_constructor_validates_and_sorts() -> None:
    week: list[tuple[tuple[time, time], ...]] = [()] * 7
    week[0] = ((time(13), time(14)), (time(9), time(10)))
    calendar = BusinessCalendar("UTC", tuple(week))
    assert calendar.weekly[0] == ((time(9), time(10)), (time(13), time(14)))
    with pytest.raises(CalendarError, match="7 entries"):
        BusinessCalendar("UTC", tuple(week[:6]))
    with pytest.raises(CalendarError, match="whole minutes"):
        BusinessCalendar("UTC", (((time(9), time(9, 30, 15)),),) + ((),) * 6)
    with pytest.raises(CalendarError, match="crosses midnight"):
        BusinessCalendar("UTC", (((time(22), time(2)),),) + ((),) * 6)


def test_naive_datetimes_and_negative_durations_are_rejected() -> None:
    naive = datetime(2025, 1, 6, 9, 0)
    aware = naive.replace(tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        DEFAULT_CALENDAR.add(naive, HOUR)
    with pytest.raises(ValueError, match="timezone-aware"):
        DEFAULT_CALENDAR.between(naive, aware)
    with pytest.raises(ValueError, match="timezone-aware"):
        DEFAULT_CALENDAR.between(aware, naive)
    with pytest.raises(ValueError, match="negative"):
        DEFAULT_CALENDAR.add(aware, -MINUTE)


def test_to_config_shape() -> None:
    calendar = BusinessCalendar.from_config(
        "Europe/Berlin",
        {"mon": [("13:00", "24:00"), ("08:00", "12:00")], "sat": [["10:00", "14:00"]]},
        ["2025-12-26", "2025-01-01", date(2025, 12, 25)],
    )
    assert calendar.to_config() == {
        "timezone": "Europe/Berlin",
        "weekly": {
            "mon": [["08:00", "12:00"], ["13:00", "24:00"]],
            "tue": [],
            "wed": [],
            "thu": [],
            "fri": [],
            "sat": [["10:00", "14:00"]],
            "sun": [],
        },
        "holidays": ["2025-01-01", "2025-12-25", "2025-12-26"],
    }
