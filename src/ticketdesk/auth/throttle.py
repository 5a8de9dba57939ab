"""Failed-login throttling per e-mail address, kept in the process's memory."""

import math
from collections import defaultdict, deque
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=1)


class LoginThrottle:
    def __init__(self, attempts_per_minute: int) -> None:
        self.limit = attempts_per_minute
        self._failures: defaultdict[str, deque[datetime]] = defaultdict(deque)

    def retry_after(self, email: str, now: datetime) -> int:
        """Seconds until this address may try again; 0 when it may try now."""
        failures = self._failures.get(email)
        if not failures:
            return 0
        while failures and failures[0] <= now - WINDOW:
            failures.popleft()
        if len(failures) < self.limit:
            return 0
        return max(1, math.ceil((failures[0] + WINDOW - now).total_seconds()))

    def failed(self, email: str, now: datetime) -> None:
        self._failures[email].append(now)

    def succeeded(self, email: str) -> None:
        self._failures.pop(email, None)
