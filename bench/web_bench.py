"""Web pages at scale: the desk's list pages, the live-update delay, JavaScript per page.

    python -m bench.web_bench --tickets 1000000      # seeds, then measures (PostgreSQL)
    python -m bench.web_bench --no-seed              # measures the database as it is
    python -m bench.web_bench --no-seed --admin      # the admin console's pages instead

Server time is measured from the client on the same machine, one request at a time (a
page's wall time, HTTP included). The live delay is the time from a reply's POST returning to
the `conversation` message on another viewer's SSE stream, with the default poll interval.
JavaScript per page: the bytes of every script the page loads.
"""

import argparse
import asyncio
import re
import statistics
import threading
import time
from typing import Any

import httpx

from bench import seed
from bench.common import server

PAGES = {
    "desk: My open": "/desk?view=my_open",
    "desk: Unassigned": "/desk?view=unassigned",
    "desk: All open": "/desk?view=all_open",
    "desk: Waiting on customer": "/desk?view=waiting",
    "desk: Breaching soon": "/desk?view=breaching",
    "desk: Recently updated": "/desk?view=recent",
    "desk: All open, urgent, by due": "/desk?view=all_open&priority=urgent&sort=due",
    "desk: All open, page 50": "/desk?view=all_open&page=50",
}
# The dashboard's figures are SQL aggregates over the range's tickets: the default 30 days,
# and the longest range a page may ask for.
ADMIN_PAGES = {
    "admin: dashboard, 30 days": "/admin/dashboard",
    "admin: dashboard, 366 days": "/admin/dashboard?start_date={year_ago}",
    "admin: SLA and business hours": "/admin/sla",
    "admin: users": "/admin/users",
    "admin: failed jobs": "/admin/jobs",
    "admin: mail": "/admin/mail",
}
SCRIPT = re.compile(r'<script src="([^"]+)"')


def sign_in(http: httpx.Client, email: str) -> None:
    form = http.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, "no sign-in form"
    body = {"email": email, "password": seed.PASSWORD, "csrf_token": token.group(1)}
    response = http.post("/login", data=body)
    assert response.status_code == 303, response.text


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def page_times(http: httpx.Client, path: str, repeat: int) -> list[float]:
    for _ in range(3):
        assert http.get(path).status_code == 200
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = http.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return samples


def javascript_bytes(http: httpx.Client, path: str) -> int:
    page = http.get(path).text
    return sum(len(http.get(src).content) for src in SCRIPT.findall(page))


def wire_bytes(http: httpx.Client, path: str) -> int:
    """The page's scripts as transferred (gzip where the server offers it)."""
    page = http.get(path).text
    total = 0
    for src in SCRIPT.findall(page):
        with http.stream("GET", src) as response:
            response.read()
            total += response.num_bytes_downloaded
    return total


def admin_pages(admin: httpx.Client, repeat: int) -> None:
    from datetime import UTC, datetime, timedelta

    year_ago = (datetime.now(UTC).date() - timedelta(days=365)).isoformat()
    print(f"{'page':34} {'p50 ms':>8} {'p95 ms':>8}")
    for name, path in ADMIN_PAGES.items():
        samples = page_times(admin, path.format(year_ago=year_ago), repeat)
        print(f"{name:34} {statistics.median(samples):8.1f} {p95(samples):8.1f}")
    print(f"JavaScript on /admin/dashboard: {wire_bytes(admin, '/admin/dashboard'):,} bytes sent")


def live_delay(base: str, agent: httpx.Client, viewer: httpx.Client, repeat: int) -> list[float]:
    """A reply posted by one agent, seen on another's stream of the same ticket."""
    listing = agent.get("/desk?view=all_open").text
    number = re.search(r"/desk/tickets/(TKT-[0-9A-Z-]+)", listing)
    assert number, "no ticket in the list"
    ref = number.group(1)
    page = agent.get(f"/desk/tickets/{ref}").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    arrived: list[float] = []
    ready = threading.Event()
    stop = threading.Event()

    def follow() -> None:
        with viewer.stream("GET", f"/live?ticket={ref}", timeout=None) as stream:
            for line in stream.iter_lines():
                if line == "event: ready":
                    ready.set()
                elif line == "event: conversation":
                    arrived.append(time.perf_counter())
                if stop.is_set():
                    return

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    assert ready.wait(30), "the stream did not open"
    delays = []
    for n in range(repeat):
        sent = len(arrived)
        body = {"comment": f"Live check {n}", "mode": "note", "csrf_token": csrf.group(1)}
        response = agent.post(f"/desk/tickets/{ref}/comments", data=body)
        posted = time.perf_counter()
        assert response.status_code == 303, response.text
        deadline = posted + 10
        while len(arrived) == sent and time.perf_counter() < deadline:
            time.sleep(0.005)
        assert len(arrived) > sent, "no live message within 10 s"
        delays.append((arrived[sent] - posted) * 1000)
        time.sleep(0.3)
    stop.set()
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", default="postgresql://postgres@127.0.0.1:5432/ticketdesk_bench_web"
    )
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--admin", action="store_true", help="measure the admin console")
    args = parser.parse_args()
    if not args.no_seed:
        timings = asyncio.run(seed.seed(args.url, tickets=args.tickets, customers=500, agents=20))
        print(f"seeded {args.tickets:,} tickets in {sum(timings.values()):.0f}s")
    results: dict[str, Any] = {}
    with (
        server(args.url) as base,
        httpx.Client(base_url=base, timeout=60) as agent,
        httpx.Client(base_url=base, timeout=60) as viewer,
        httpx.Client(base_url=base, timeout=60) as customer,
    ):
        sign_in(agent, seed.AGENT)
        sign_in(viewer, seed.ADMIN)
        sign_in(customer, seed.CUSTOMER)
        if args.admin:
            admin_pages(viewer, args.repeat)
            return
        print(f"{'page':34} {'p50 ms':>8} {'p95 ms':>8}")
        first = re.search(r"/desk/tickets/(TKT-[0-9A-Z-]+)", agent.get("/desk?view=all_open").text)
        assert first, "no ticket in the list"
        own = re.search(r"/portal/tickets/(TKT-[0-9A-Z-]+)", customer.get("/portal").text)
        assert own, "the customer has no ticket"
        pages = PAGES | {
            "desk: a ticket": f"/desk/tickets/{first.group(1)}",
            "portal: My tickets": "/portal",
            "portal: a ticket": f"/portal/tickets/{own.group(1)}",
        }
        for name, path in pages.items():
            client = customer if path.startswith("/portal") else agent
            samples = page_times(client, path, args.repeat)
            results[name] = samples
            print(f"{name:34} {statistics.median(samples):8.1f} {p95(samples):8.1f}")
        delays = live_delay(base, agent, viewer, 20)
        print(
            f"live reply to another viewer's stream: median {statistics.median(delays):.0f} ms,"
            f" max {max(delays):.0f} ms (poll interval 0.5 s)"
        )
        for path in ("/desk", "/desk/tickets/1"):
            print(f"JavaScript on {path}: {javascript_bytes(agent, path):,} bytes")


if __name__ == "__main__":
    main()
