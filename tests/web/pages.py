"""Helpers for the page tests: sign a test user in, read tokens and text out of HTML."""

import html
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Actor, in_db
from ticketdesk import clock
from ticketdesk.web import sessions
from ticketdesk.web.pages import SESSION_COOKIE

CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


@dataclass
class Browser:
    """One signed-in user's cookie and CSRF token, sent with each request."""

    client: TestClient
    cookie: str
    csrf: str

    @property
    def headers(self) -> dict[str, str]:
        return {"cookie": f"{SESSION_COOKIE}={self.cookie}"}

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, headers=self.headers, follow_redirects=False, **kwargs)

    def post(
        self,
        url: str,
        data: dict[str, Any] | None = None,
        *,
        csrf: bool = True,
        files: list[tuple[str, tuple[str, bytes]]] | None = None,
    ) -> Any:
        """A form post; with `files`, multipart as a browser sends a form with a file input."""
        body = dict(data or {})
        if csrf:
            body.setdefault("csrf_token", self.csrf)
        return self.client.post(
            url, data=body, files=files, headers=self.headers, follow_redirects=False
        )


def browser_for(client: TestClient, actor: Actor) -> Browser:
    """A session row made directly (as a sign-in would), without touching the client's jar."""

    async def _start(session: Any) -> tuple[str, str]:
        from ticketdesk.auth.models import User

        user = await session.get(User, actor.id)
        token, row = await sessions.start(
            session, user, now=clock.now(), lifetime=timedelta(hours=1)
        )
        return token, row.csrf_token

    token, csrf = in_db(client, _start)
    return Browser(client, token, csrf)


def csrf_in(page: str) -> str:
    found = CSRF.search(page)
    assert found, "no CSRF field on the page"
    return found.group(1)


def visible_text(page: str) -> str:
    """The page's text as a reader sees it (tags removed, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))
