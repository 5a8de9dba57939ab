"""The live stream against a real server process: a customer's stream over HTTP, resuming
from Last-Event-ID, and the 404 / sign-in rules of `/live`."""

import asyncio
import queue
import re
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import _reset
from tests.web.browser import ADMIN, PASSWORD, Server, start_server

pytestmark = [pytest.mark.server, pytest.mark.shared_database]


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    asyncio.run(_reset(database_url))
    yield from start_server(database_url, tmp_path_factory.mktemp("live-data"))


def signed_in(server: Server, email: str, password: str = PASSWORD) -> httpx.Client:
    http = httpx.Client(base_url=server.base, timeout=30)
    form = http.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    body = {"email": email, "password": password, "csrf_token": token.group(1)}
    assert http.post("/login", data=body).status_code == 303
    return http


class Stream:
    """Reads an SSE stream on a thread; `next_event()` waits for the next named message."""

    def __init__(self, http: httpx.Client, url: str, headers: dict[str, str] | None = None):
        self.messages: queue.Queue[tuple[str, str, str]] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(http, url, headers), daemon=True)
        self._thread.start()

    def _run(self, http: httpx.Client, url: str, headers: dict[str, str] | None) -> None:
        try:
            self._read(http, url, headers)
        except httpx.HTTPError:
            return  # the server stopped at the end of the module

    def _read(self, http: httpx.Client, url: str, headers: dict[str, str] | None) -> None:
        with http.stream("GET", url, headers=headers, timeout=None) as response:
            event, data, id_ = "", "", ""
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data = line[6:]
                elif line.startswith("id: "):
                    id_ = line[4:]
                elif line == "" and event:
                    self.messages.put((event, data, id_))
                    event, data, id_ = "", "", ""

    def next_event(self, timeout: float = 5.0) -> tuple[str, str, str]:
        return self.messages.get(timeout=timeout)

    def quiet_for(self, seconds: float) -> bool:
        try:
            found = self.messages.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected message {found}")

    def close(self) -> None:
        self._stop.set()


def test_customer_stream_over_http(server: Server) -> None:
    staff = server.token(ADMIN[0], ADMIN[1])
    account = {"email": "lena@example.com", "password": PASSWORD, "full_name": "Lena"}
    assert httpx.post(f"{server.api}/auth/register", json=account).status_code == 201
    lena = server.token(account["email"], PASSWORD)
    ticket = httpx.post(
        f"{server.api}/tickets/", json={"subject": "s", "description": "d"}, headers=lena
    ).json()
    browser = signed_in(server, account["email"])
    stream = Stream(browser, f"/live?ticket={ticket['ticket_number']}")
    assert stream.next_event()[0] == "ready"
    comments = f"{server.api}/tickets/{ticket['id']}/comments"
    note = {"comment": "SECRET", "is_internal": True}
    assert httpx.post(comments, json=note, headers=staff).status_code == 201
    assert stream.quiet_for(1.5)
    reply = {"comment": "Public"}
    assert httpx.post(comments, json=reply, headers=staff).status_code == 201
    event, data, last_id = stream.next_event()
    assert event == "conversation" and "note" not in data and last_id
    stream.close()

    # Back after a break: everything since the last id it saw is replayed at once.
    assert httpx.post(comments, json={"comment": "While away"}, headers=staff).status_code == 201
    assert httpx.post(comments, json=note, headers=staff).status_code == 201
    again = Stream(browser, f"/live?ticket={ticket['ticket_number']}", {"Last-Event-ID": last_id})
    assert again.next_event()[0] == "conversation"
    assert again.next_event()[0] == "ready"
    again.close()


def test_live_follows_the_page_rules(server: Server) -> None:
    account = {"email": "omar@example.com", "password": PASSWORD, "full_name": "Omar"}
    assert httpx.post(f"{server.api}/auth/register", json=account).status_code == 201
    staff = server.token(ADMIN[0], ADMIN[1])
    theirs = httpx.post(
        f"{server.api}/tickets/", json={"subject": "s", "description": "d"}, headers=staff
    ).json()
    omar = signed_in(server, account["email"])
    assert omar.get(f"/live?ticket={theirs['ticket_number']}").status_code == 404
    anonymous = httpx.get(f"{server.base}/live", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login")
