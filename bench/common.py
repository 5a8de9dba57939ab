"""Pieces the benchmarks share: a server process, logins, timing."""

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parents[1]
API = "/api/v1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    """A running `ticketdesk serve`: its base URL, port and the pid of the top process."""

    base: str
    port: int
    pid: int


@contextmanager
def server_process(
    url: str, *, workers: int = 1, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """A `ticketdesk serve` process on a free port, as in production (uvicorn, keep-alive on).

    Its stderr goes to a temporary file, not a pipe nobody reads: a server logging many errors
    under load would otherwise block on a full pipe.
    """
    port = free_port()
    env = {
        **os.environ,
        "TICKETDESK_DATABASE_URL": url,
        "TICKETDESK_PORT": str(port),
        "TICKETDESK_WORKERS": str(workers),
        "TICKETDESK_JOBS_INTERVAL_SECONDS": "0",
        "TICKETDESK_SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789",
        "TICKETDESK_LOGIN_ATTEMPTS_PER_MINUTE": "1000000",
        "TICKETDESK_LOGIN_FAILURES_PER_CLIENT_PER_MINUTE": "1000000",
        "TICKETDESK_REGISTRATIONS_PER_CLIENT_PER_HOUR": "1000000",
        "TICKETDESK_RATE_LIMIT_PER_MINUTE": "0",
        "TICKETDESK_LOG_FORMAT": "text",
        "TICKETDESK_ACCESS_LOG": "false",
        "TICKETDESK_DATA_DIR": tempfile.mkdtemp(prefix="ticketdesk-bench-"),
        **(extra_env or {}),
    }
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "ticketdesk"), "serve"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base, process, log)
            yield Server(base=base, port=port, pid=process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)


@contextmanager
def server(url: str, *, workers: int = 1, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """A `ticketdesk serve` process on a free port; yields its base URL."""
    with server_process(url, workers=workers, extra_env=extra_env) as running:
        yield running.base


def server_pids(base_pid: int) -> list[int]:
    """The server process and its children (uvicorn workers)."""
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(base_pid)], capture_output=True, text=True
    ).stdout
    return [base_pid, *(int(pid) for pid in out.split())]


def _wait_ready(base: str, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"server exited: {log.read().decode(errors='replace')}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not become ready")


def process_tree(root: int) -> list[int]:
    """`root` and all its live descendants (uvicorn workers, their helpers), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """utime + stime of each process (not its reaped children), in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the ")" of the name: state is field 3 of proc(5), utime 14 and stime 15.
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def _status_kib(pid: int, field: str) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def peak_rss_mib(pids: list[int]) -> dict[int, float]:
    """VmHWM (peak resident set since start or the last `reset_peak_rss`) of each process."""
    peaks = {pid: _status_kib(pid, "VmHWM") for pid in pids}
    return {pid: kib / 1024 for pid, kib in peaks.items() if kib is not None}


def rss_mib(pids: list[int]) -> dict[int, float]:
    """VmRSS (resident set now) of each process, in MiB."""
    sizes = {pid: _status_kib(pid, "VmRSS") for pid in pids}
    return {pid: kib / 1024 for pid, kib in sizes.items() if kib is not None}


def reset_peak_rss(pids: list[int]) -> bool:
    """Restart each process's VmHWM from its current RSS (proc(5), clear_refs 5)."""
    try:
        for pid in pids:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def connections_by_pid(pids: list[int], port: int) -> dict[int, int]:
    """How many established TCP connections to `port` each process holds (/proc/net/tcp*)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                inodes.add(f"socket:[{fields[9]}]")
    counts = {}
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        counts[pid] = sum(1 for fd in fds if _readlink(fd) in inodes)
    return counts


def _readlink(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""


def login(base: str, email: str, password: str) -> dict[str, str]:
    response = httpx.post(f"{base}{API}/auth/login", json={"email": email, "password": password})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def median_ms(run: Callable[[], object], *, repeat: int, warmup: int = 2) -> float:
    """The median wall time of `run`, in milliseconds, after a warm-up."""
    for _ in range(warmup):
        run()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)
