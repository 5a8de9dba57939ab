from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.webhooks.receiver import Receiver
from ticketdesk.config import Settings
from ticketdesk.webhooks import dispatch, service


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The receivers of these tests listen on 127.0.0.1; retries come at once unless a test
    sets its own schedule."""
    return settings.model_copy(
        update={"webhook_allow_private": True, "webhook_retry_seconds": "0,0"}
    )


@pytest.fixture(autouse=True)
def dispatch_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests run the jobs right after the request: no batching delay; and no memory of
    whether an earlier test's (emptied) database had an active webhook."""
    monkeypatch.setattr(dispatch, "DISPATCH_DELAY", timedelta(0))
    service.forget_active()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()
