"""The guard against webhooks aimed inside the network (SSRF), at save and at send time.

Only http and https. A host that is, or resolves (every address getaddrinfo gives) to, a
loopback, private, link-local, multicast, unspecified or reserved address is refused, IPv4 and
IPv6 alike (IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry).
`TICKETDESK_WEBHOOK_ALLOW_PRIVATE=true` lifts the address rule (tests, closed networks).
At send time the sender connects to the address checked here, never to a second lookup, so
a name that changes its answer in between (DNS rebinding) cannot slip through.
"""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(ValueError):
    """The URL may not be called; the message says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written in the URL (the Host header and the TLS server name)
    port: int
    address: str  # the checked address to connect to


def split(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of an http(s) URL; Refused for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Refused("only http and https URLs are allowed")
    if not parts.hostname:
        raise Refused("the URL has no host")
    if parts.username or parts.password:
        raise Refused("credentials in the URL are not allowed")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def forbidden(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or not address.is_global
    )


async def resolve(host: str, port: int) -> list[str]:
    """Every address the host stands for (a literal address stands for itself)."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Refused(f"the host {host!r} does not resolve ({exc})") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise Refused(f"the host {host!r} does not resolve")
    return addresses


async def check(url: str, *, allow_private: bool) -> Target:
    """The address to connect to, once every address of the host has passed the rule.

    With private addresses allowed there is nothing to check: the name is used as it is.
    """
    scheme, host, port = split(url)
    if allow_private:
        return Target(scheme, host, port, host)
    addresses = await resolve(host, port)
    for text in addresses:
        if forbidden(ipaddress.ip_address(text.split("%")[0])):
            raise Refused(
                f"{host} resolves to {text}, a loopback, private, link-local or otherwise "
                "non-public address"
            )
    return Target(scheme, host, port, addresses[0])
