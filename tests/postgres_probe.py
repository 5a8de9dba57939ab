"""Exit 0 when the PostgreSQL server of the given URL accepts connections, else 1."""

import socket
import sys

from sqlalchemy.engine import make_url


def reachable(url: str) -> bool:
    parsed = make_url(url)
    try:
        socket.create_connection((parsed.host or "127.0.0.1", parsed.port or 5432), 2).close()
    except OSError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(0 if reachable(sys.argv[1]) else 1)
