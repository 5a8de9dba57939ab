from collections.abc import Iterator

import pytest

from tests.webhooks.receiver import Receiver
from ticketdesk.config import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The receivers of these tests listen on 127.0.0.1; retries come at once unless a test
    sets its own schedule."""
    return settings.model_copy(
        update={"webhook_allow_private": True, "webhook_retry_seconds": "0,0"}
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()
