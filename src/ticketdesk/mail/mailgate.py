"""`ticketdesk mailgate`: hands one mail from an MTA pipe to the service's inbound endpoint.

Exit status 0 only once the service stored the mail; 75 (EX_TEMPFAIL) when it should be tried
again later (the MTA keeps it queued); 65 (EX_DATAERR) when the service refuses it for good.
"""

import urllib.error
import urllib.request

EX_OK = 0
EX_DATAERR = 65
EX_TEMPFAIL = 75
PATH = "/api/v1/mail/inbound"


def deliver(url: str, token: str, raw: bytes, *, timeout: float = 60.0) -> tuple[int, str]:
    """(exit status, message) of handing `raw` to the service at `url`."""
    if not raw.strip():
        return EX_DATAERR, "no mail on standard input"
    request = urllib.request.Request(
        url.rstrip("/") + PATH,
        data=raw,
        method="POST",
        headers={"Content-Type": "message/rfc822", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return EX_OK, f"stored ({response.status})"
    except urllib.error.HTTPError as error:
        detail = error.read()[:500].decode("utf-8", "replace")
        # A refused mail is final; a wrong token or a server in trouble is fixed later.
        final = error.code in (400, 413, 415, 422)
        return (EX_DATAERR if final else EX_TEMPFAIL), f"HTTP {error.code}: {detail}"
    except (urllib.error.URLError, OSError) as error:
        return EX_TEMPFAIL, f"cannot reach {url}: {error}"
