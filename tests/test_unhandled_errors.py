"""An error escaping a route is a JSON 500 with the request id, logged, and the keep-alive
connection stays usable for the requests behind it (a real uvicorn server, in a thread)."""

import http.client
import json
import threading
import time

import asyncpg
import pytest
import uvicorn
from fastapi import APIRouter
from sqlalchemy import exc as sa_exc

from tests.servers import free_port
from ticketdesk.http import error_response
from ticketdesk.main import create_app


def test_unhandled_error_is_json_and_the_connection_survives(settings, caplog):
    app = create_app(settings)
    boom = APIRouter()

    @boom.get("/boom")
    async def explode() -> None:
        raise RuntimeError("a bug")

    app.include_router(boom)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/boom", headers={"X-Request-ID": "boom-1"})
        response = connection.getresponse()
        body = json.loads(response.read())
        assert response.status == 500
        assert "boom-1" in body["detail"]
        assert response.getheader("X-Request-ID") == "boom-1"
        # The same connection answers the next request.
        connection.request("GET", "/healthz")
        follow = connection.getresponse()
        assert follow.status == 200
        assert json.loads(follow.read()) == {"status": "ok"}
        connection.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert any("unhandled error" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    "orig, status",
    [
        (asyncpg.exceptions.DeadlockDetectedError("deadlock detected"), 503),
        (asyncpg.exceptions.SerializationError("could not serialize access"), 503),
        (asyncpg.exceptions.DivisionByZeroError("division by zero"), 500),
    ],
)
def test_a_rolled_back_deadlock_is_a_503_to_retry(orig, status):
    """What the asyncpg dialect raises for each: a plain DBAPIError around the driver's error."""
    error = sa_exc.DBAPIError("UPDATE ...", {}, orig)
    response = error_response(error, "req-1")
    assert response.status_code == status
    assert ("Retry-After" in response.headers) is (status == 503)
