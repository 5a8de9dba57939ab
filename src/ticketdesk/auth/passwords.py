"""Password strength: zxcvbn's estimate (common passwords, dictionary words, keyboard walks,
dates, and words taken from the account itself — its address and name)."""

import re

from starlette.concurrency import run_in_threadpool
from zxcvbn import zxcvbn  # type: ignore[import-untyped]

from ticketdesk.errors import Invalid

# zxcvbn's 0-4 score: 2 is "somewhat guessable" (about 10^8 guesses), the least we accept.
MIN_SCORE = 2
MAX_LENGTH = 256


def _context(email: str, full_name: str) -> list[str]:
    local, _, domain = email.lower().partition("@")
    words = [email.lower(), local, domain, full_name.lower(), "ticketdesk", "helpdesk"]
    words += re.split(r"[^a-z0-9]+", f"{local} {domain} {full_name.lower()}")
    return [word for word in words if len(word) >= 3]


def weakness(password: str, *, email: str, full_name: str) -> str | None:
    """Why the password is too weak, or None."""
    result = zxcvbn(password, user_inputs=_context(email, full_name), max_length=MAX_LENGTH)
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result["feedback"]
    reason = feedback.get("warning") or "this password is easy to guess"
    hints = " ".join(feedback.get("suggestions") or [])
    return f"too weak: {reason.rstrip('.')}. {hints}".strip()


async def require_strong(
    password: str, *, email: str, full_name: str, field: str = "password"
) -> None:
    """Raise a 422 naming the field if the password is weak (checked off the event loop)."""
    problem = await run_in_threadpool(weakness, password, email=email, full_name=full_name)
    if problem:
        raise Invalid(problem, field=field)
