from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from ticketdesk.tickets.schemas import TicketFilters, TicketRead
from ticketdesk.validation import no_nul


class SearchFilters(TicketFilters):
    """The ticket list's filters, with `q` required."""

    q: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
        AfterValidator(no_nul),
    ]


class SearchHit(TicketRead):
    # HTML-escaped text around the matches, each match in <mark>…</mark> (no other markup).
    snippet: str
