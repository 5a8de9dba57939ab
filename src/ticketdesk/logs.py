"""Logging: one configuration for the app's loggers, uvicorn's and SQLAlchemy's, as JSON lines
(one object per line) or plain text, each line carrying the request id it was written under."""

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# LogRecord attributes that are not extra fields given by the caller.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}
# Never written, whatever a caller passes as an extra field.
_SECRET_WORDS = ("password", "token", "secret", "authorization", "cookie", "body")


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD and not any(word in key.lower() for word in _SECRET_WORDS)
    }


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "request_id", None):
            entry["request_id"] = getattr(record, "request_id", None)
        entry.update(_extras(record))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        rid = getattr(record, "request_id", None)
        head = f"{stamp} {record.levelname:<7} {record.name}"
        line = f"{head} [{rid}] {record.getMessage()}" if rid else f"{head} {record.getMessage()}"
        extras = _extras(record)
        if extras and record.name == "ticketdesk.access":
            line += " " + " ".join(
                f"{k}={v}" for k, v in extras.items() if k in ("user_id", "route", "duration_ms")
            )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def log_format(setting: str) -> str:
    """`auto`: text on a terminal, JSON otherwise."""
    if setting in ("json", "text"):
        return setting
    return "text" if sys.stderr.isatty() else "json"


def configure(fmt: str, *, level: str = "INFO", access_log: bool = True) -> None:
    """Route every logger through one stderr handler in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter() if log_format(fmt) == "json" else TextFormatter())
    handler.addFilter(_RequestId())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn's own handlers would print a second, unformatted copy.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # Our request line replaces uvicorn's access log (it has the request id, user and route).
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("ticketdesk.access").disabled = not access_log
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


def uvicorn_log_config() -> dict[str, Any]:
    """Tell uvicorn to leave logging alone: `configure` set it up in each process."""
    return {"version": 1, "disable_existing_loggers": False}
