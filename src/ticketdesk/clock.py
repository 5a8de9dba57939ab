"""The one place "now" comes from. Tests replace the source with `set_clock`."""

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

Clock = Callable[[], datetime]


def _system_now() -> datetime:
    return datetime.now(UTC)


_source: Clock = _system_now


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    return _source()


def set_clock(source: Clock | None) -> None:
    """Replace the clock (None restores the system clock)."""
    global _source
    _source = source or _system_now


def day_start(day: date) -> datetime:
    """The instant a UTC day begins."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def day_range(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """[start, end) covering the UTC days `first` to `last`, both included; None: open."""
    start = day_start(first) if first is not None else None
    # The last date there is has no day after it: the range is open at that end.
    end = day_start(last + timedelta(days=1)) if last is not None and last < date.max else None
    return start, end
