"""The one place "now" comes from. Tests replace the source with `set_clock`."""

from collections.abc import Callable
from datetime import UTC, datetime

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
