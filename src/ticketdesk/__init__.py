"""ticketdesk: a helpdesk — tickets, SLAs, statistics."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ticketdesk")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0.0.0"
