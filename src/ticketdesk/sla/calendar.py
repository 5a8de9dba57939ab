"""Business-time arithmetic for SLA due dates.

A UTC instant is business time iff, read in the calendar's IANA time zone, its local
date is not a holiday and its local wall-clock time lies in one of the half-open
windows [start, end) of that date's weekday. DST follows from this definition: local
times inside a spring-forward gap never occur, and a repeated fall-back hour counts
twice when it lies inside a window.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cached_property
from itertools import pairwise
from typing import TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

END_OF_DAY = time.max
"""A window end meaning the local midnight that ends the day ("24:00" in the config)."""

Window = tuple[time, time]
_Span = tuple[int, int]  # [start, end) in microseconds
_Segment = tuple[int, int, int]  # [start, end) in UTC microseconds and the UTC offset there

_US_PER_SECOND = 1_000_000
_US_PER_DAY = 86_400 * _US_PER_SECOND
_ONE_US = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_MAX_IDLE_DAYS = 3660  # about ten years with no business time: the calendar is unusable
_HHMM = re.compile(r"([0-9]{2}):([0-9]{2})")


class CalendarError(ValueError):
    """A calendar definition that cannot be used (bad zone, bad/overlapping/crossing-midnight windows, no open time)."""  # noqa: E501


class CalendarConfig(TypedDict):
    """The API/storage shape of a calendar."""

    timezone: str
    weekly: dict[str, list[list[str]]]
    holidays: list[str]


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekly local-time windows (index 0 = Monday) and holidays, in one IANA time zone."""

    timezone: str
    weekly: tuple[tuple[Window, ...], ...]
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        """Reject unusable definitions; store windows sorted and holidays as a frozenset."""
        _load_zone(self.timezone)
        object.__setattr__(self, "weekly", _normalise_weekly(self.weekly))
        object.__setattr__(self, "holidays", _normalise_holidays(self.holidays))

    @classmethod
    def from_config(
        cls,
        timezone: str,
        weekly: Mapping[str, Sequence[Sequence[str]]],
        holidays: Iterable[str | date] = (),
    ) -> BusinessCalendar:
        """Build from the API shape; missing weekday keys mean closed, "24:00" ends a day."""
        if not isinstance(weekly, Mapping):
            raise CalendarError("weekly must map weekday keys (mon..sun) to lists of windows")
        unknown = sorted(str(key) for key in weekly if key not in WEEKDAYS)
        if unknown:
            raise CalendarError(
                f"unknown weekday key(s) {', '.join(unknown)}; expected {', '.join(WEEKDAYS)}"
            )
        if isinstance(holidays, str):
            raise CalendarError("holidays must be a list of ISO dates, not a single string")
        days = tuple(
            tuple(_parse_window(name, raw) for raw in weekly.get(name) or ()) for name in WEEKDAYS
        )
        return cls(timezone, days, frozenset(_parse_holiday(item) for item in holidays))

    def to_config(self) -> CalendarConfig:
        """The API shape: all seven weekday keys, "24:00" for end of day, sorted ISO holidays."""
        weekly = {
            name: [[_format_time(start), _format_time(end)] for start, end in windows]
            for name, windows in zip(WEEKDAYS, self.weekly, strict=True)
        }
        holidays = [day.isoformat() for day in sorted(self.holidays)]
        return {"timezone": self.timezone, "weekly": weekly, "holidays": holidays}

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest UTC instant by which `duration` of business time has elapsed since start."""
        begin = _as_utc(start, "start")
        if duration < timedelta(0):
            raise ValueError(f"duration must not be negative, got {duration}")
        if not duration:
            return begin
        remaining = duration // _ONE_US
        for low, high in self._walk().intervals(_to_us(begin), None):
            if remaining <= high - low:
                return _from_us(low + remaining)
            remaining -= high - low
        raise AssertionError("unreachable: an unbounded interval walk ends only by raising")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time in [start, end); zero when end <= start."""
        begin, finish = _to_us(_as_utc(start, "start")), _to_us(_as_utc(end, "end"))
        if finish <= begin:
            return timedelta(0)
        total = 0
        for low, high in self._walk().intervals(begin, finish):
            if low >= finish:
                break
            total += min(high, finish) - low
        return timedelta(microseconds=total)

    def _walk(self) -> _Walk:
        """A fresh walker over this calendar's local dates."""
        return _Walk(self._zone, self._spans, self._holiday_ordinals)

    @cached_property
    def _zone(self) -> tzinfo:
        """The resolved time zone."""
        return _load_zone(self.timezone)

    @cached_property
    def _spans(self) -> tuple[tuple[_Span, ...], ...]:
        """Each weekday's windows in microseconds after local midnight (END_OF_DAY = one day)."""
        return tuple(tuple(_span(window) for window in windows) for windows in self.weekly)

    @cached_property
    def _holiday_ordinals(self) -> frozenset[int]:
        """Holidays as proleptic Gregorian ordinals."""
        return frozenset(day.toordinal() for day in self.holidays)


class _Walk:
    """One forward walk over local dates, remembering the UTC offsets it has probed.

    Instants are integer microseconds since the Unix epoch: integer arithmetic keeps
    the day-by-day walk fast and exact.
    """

    def __init__(
        self, zone: tzinfo, spans: tuple[tuple[_Span, ...], ...], holidays: frozenset[int]
    ) -> None:
        self._zone = zone
        self._spans = spans
        self._holidays = holidays
        self._offsets: dict[int, int] = {}

    def intervals(self, start: int, stop: int | None) -> Iterator[_Span]:
        """Business intervals after start, in UTC order, the first clipped to begin at start.

        With stop, the walk ends once no later date can reach before stop; without it,
        CalendarError is raised after _MAX_IDLE_DAYS consecutive dates without business time.
        """
        # A local date can recur after a later one (a fall-back across midnight), so
        # intervals wait in a heap until no later date can produce an earlier one.
        pending: list[_Span] = []
        ordinal = _from_us(start).astimezone(self._zone).toordinal() - 2
        idle = 0
        while True:
            found = self._day_intervals(ordinal)
            for interval in found:
                heapq.heappush(pending, interval)
            idle = 0 if found else idle + 1
            # |utcoffset| < 24h, so every later date's instants come after this one.
            floor = _local_midnight(ordinal)
            while pending and pending[0][0] <= floor:
                low, high = heapq.heappop(pending)
                if high > start:
                    yield max(low, start), high
            if stop is not None and floor >= stop:
                return
            if stop is None and idle > _MAX_IDLE_DAYS:
                raise CalendarError(
                    f"no business time in the {_MAX_IDLE_DAYS} days after "
                    f"{date.fromordinal(ordinal - idle)}; are all open days holidays?"
                )
            ordinal += 1

    def _day_intervals(self, ordinal: int) -> list[_Span]:
        """UTC intervals of the instants whose local date is this one and time is in a window."""
        spans = self._spans[(ordinal - 1) % 7]  # ordinal 1 (0001-01-01) is a Monday
        if not spans or ordinal in self._holidays:
            return []
        midnight = _local_midnight(ordinal)
        found: list[_Span] = []
        for seg_start, seg_end, offset in self._offset_segments(midnight):
            # While the offset is constant, local wall time w is the instant w - offset.
            base = midnight - offset
            for span_start, span_end in spans:
                low, high = max(seg_start, base + span_start), min(seg_end, base + span_end)
                if low < high:
                    found.append((low, high))
        return found

    def _offset_segments(self, midnight: int) -> list[_Segment]:
        """Constant-offset pieces of the UTC range that can hold the local date at midnight."""
        # |utcoffset| < 24h bounds the range. Equal offsets at both ends are taken to mean
        # no change inside: no zone changes its offset and back again within three days.
        low, high = midnight - _US_PER_DAY, midnight + 2 * _US_PER_DAY
        first, last = self._offset(low), self._offset(high)
        if first == last:
            return [(low, high, first)]
        segments: list[_Segment] = []
        current = first
        while current != last:
            change = self._next_change(low, high, current)
            segments.append((low, change, current))
            low, current = change, self._offset(change)
        segments.append((low, high, current))
        return segments

    def _next_change(self, low: int, high: int, offset: int) -> int:
        """First whole second after low where the offset differs (given it differs at high)."""
        # Zone transitions fall on whole seconds, so bisecting over seconds is exact.
        below, above = 0, (high - low) // _US_PER_SECOND
        while above - below > 1:
            middle = (below + above) // 2
            if self._offset(low + middle * _US_PER_SECOND) == offset:
                below = middle
            else:
                above = middle
        return low + above * _US_PER_SECOND

    def _offset(self, instant: int) -> int:
        """The zone's UTC offset in microseconds at a UTC instant (memoised for this walk)."""
        known = self._offsets.get(instant)
        if known is None:
            # Probes fall on whole seconds, and fromtimestamp is the cheapest conversion.
            offset = datetime.fromtimestamp(instant // _US_PER_SECOND, self._zone).utcoffset()
            if offset is None:
                raise CalendarError(f"time zone {self._zone} gives no UTC offset")
            known = self._offsets[instant] = offset // _ONE_US
        return known


def _load_zone(name: str) -> tzinfo:
    """The tzinfo for an IANA name; CalendarError if the name is unknown."""
    if not isinstance(name, str) or not name:
        raise CalendarError(f"time zone must be a non-empty IANA name, got {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        if name == "UTC":  # keeps DEFAULT_CALENDAR importable on hosts without tz data
            return UTC
        raise CalendarError(f"unknown time zone {name!r}") from exc


def _normalise_weekly(weekly: Sequence[Sequence[Window]]) -> tuple[tuple[Window, ...], ...]:
    """Seven validated days of sorted, non-overlapping windows, at least one window in all."""
    if isinstance(weekly, str | bytes) or len(weekly) != len(WEEKDAYS):
        raise CalendarError("weekly must have 7 entries, Monday first")
    days = tuple(
        _normalise_day(name, windows) for name, windows in zip(WEEKDAYS, weekly, strict=True)
    )
    if not any(days):
        raise CalendarError("the calendar has no open window on any weekday")
    return days


def _normalise_day(name: str, windows: Sequence[Window]) -> tuple[Window, ...]:
    """One day's windows, each valid, sorted by start; overlapping windows are rejected."""
    ordered = tuple(sorted(_check_window(name, window) for window in windows))
    for (start_a, end_a), (start_b, end_b) in pairwise(ordered):
        if start_b < end_a:
            raise CalendarError(
                f"{name}: windows {_format_time(start_a)}-{_format_time(end_a)} and "
                f"{_format_time(start_b)}-{_format_time(end_b)} overlap"
            )
    return ordered


def _check_window(name: str, window: Window) -> Window:
    """A (start, end) pair of naive whole-minute times with start < end, else CalendarError."""
    if not isinstance(window, tuple | list) or len(window) != 2:
        raise CalendarError(f"{name}: window {window!r} must be a (start, end) pair")
    start, end = window
    if not all(isinstance(moment, time) and moment.tzinfo is None for moment in window):
        raise CalendarError(f"{name}: window {window!r} must hold two naive datetime.time values")
    for moment in (start, end):
        if moment != END_OF_DAY and (moment.second or moment.microsecond):
            raise CalendarError(f"{name}: window times must be whole minutes, got {moment}")
    if start == END_OF_DAY:
        raise CalendarError(f"{name}: 24:00 can only end a window, not start one")
    if start >= end:
        raise CalendarError(_bad_order_message(name, start, end))
    return start, end


def _bad_order_message(name: str, start: time, end: time) -> str:
    """Explain a window whose end is not after its start, suggesting the fix."""
    first, last = _format_time(start), _format_time(end)
    if start == end:
        return f"{name}: window {first}-{last} is empty; the start must be before the end"
    if end == time(0):
        return f"{name}: window {first}-00:00 ends before it starts; write 24:00 for end of day"
    following = WEEKDAYS[(WEEKDAYS.index(name) + 1) % len(WEEKDAYS)]
    return (
        f"{name}: window {first}-{last} crosses midnight (start >= end); split it into "
        f"{first}-24:00 on {name} and 00:00-{last} on {following}"
    )


def _normalise_holidays(holidays: Iterable[date]) -> frozenset[date]:
    """Holidays as a frozenset of plain dates (a datetime would never match a date)."""
    if isinstance(holidays, str | bytes):
        raise CalendarError("holidays must be a collection of dates")
    days = frozenset(holidays)
    for day in days:
        if not isinstance(day, date) or isinstance(day, datetime):
            raise CalendarError(f"holiday {day!r} must be a datetime.date")
    return days


def _parse_window(name: str, raw: Sequence[str]) -> Window:
    """A ["HH:MM", "HH:MM"] pair as times; "24:00" is allowed only as the end."""
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        raise CalendarError(f"{name}: window {raw!r} must be a [start, end] pair")
    return _parse_time(name, raw[0], may_end_day=False), _parse_time(name, raw[1], may_end_day=True)


def _parse_time(name: str, text: str, *, may_end_day: bool) -> time:
    """A 24-hour "HH:MM" string as a time; "24:00" becomes END_OF_DAY where allowed."""
    match = _HHMM.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise CalendarError(f"{name}: time {text!r} is not in HH:MM form")
    hour, minute = int(match[1]), int(match[2])
    if (hour, minute) == (24, 0):
        if may_end_day:
            return END_OF_DAY
        raise CalendarError(f"{name}: 24:00 can only end a window, not start one")
    if hour > 23 or minute > 59:
        raise CalendarError(f"{name}: time {text!r} is out of range (00:00-23:59, or 24:00)")
    return time(hour, minute)


def _parse_holiday(item: str | date) -> date:
    """An ISO "YYYY-MM-DD" string or a date as a date."""
    if isinstance(item, date) and not isinstance(item, datetime):
        return item
    if isinstance(item, str):
        try:
            return date.fromisoformat(item)
        except ValueError:
            pass
    raise CalendarError(f"holiday {item!r} is not an ISO date (YYYY-MM-DD)")


def _format_time(moment: time) -> str:
    """HH:MM, with END_OF_DAY written as 24:00."""
    return "24:00" if moment == END_OF_DAY else moment.strftime("%H:%M")


def _span(window: Window) -> _Span:
    """A window as microseconds after local midnight; END_OF_DAY is exactly one day."""
    start, end = window
    return _since_midnight(start), _US_PER_DAY if end == END_OF_DAY else _since_midnight(end)


def _since_midnight(moment: time) -> int:
    """The time of day in microseconds since midnight."""
    seconds = (moment.hour * 60 + moment.minute) * 60 + moment.second
    return seconds * _US_PER_SECOND + moment.microsecond


def _local_midnight(ordinal: int) -> int:
    """Local midnight of the date with this ordinal, read as if it were a UTC instant."""
    return (ordinal - _EPOCH_ORDINAL) * _US_PER_DAY


def _to_us(moment: datetime) -> int:
    """An aware datetime as microseconds since the Unix epoch."""
    return (moment - _EPOCH) // _ONE_US


def _from_us(instant: int) -> datetime:
    """Microseconds since the Unix epoch as an aware UTC datetime."""
    return _EPOCH + timedelta(microseconds=instant)


def _as_utc(moment: datetime, name: str) -> datetime:
    """An aware datetime converted to UTC; naive ones are rejected with ValueError."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")
    return moment.astimezone(UTC)


DEFAULT_CALENDAR = BusinessCalendar.from_config(
    "UTC", {name: [["09:00", "17:00"]] for name in WEEKDAYS[:5]}
)
"""Monday to Friday 09:00-17:00 UTC, no holidays."""
