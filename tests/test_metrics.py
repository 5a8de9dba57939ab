"""/metrics: off by default, only for the allowed addresses, Prometheus text."""

import os

from fastapi.testclient import TestClient

from ticketdesk.main import create_app


def test_metrics_are_off_by_default(client):
    assert client.get("/metrics").status_code == 404


def test_metrics_for_allowed_addresses_only(settings):
    on = settings.model_copy(update={"metrics": True})
    app = create_app(on)
    with TestClient(app, client=("127.0.0.1", 5000)) as local:
        local.get("/healthz")
        local.get("/api/v1/tickets/12345")
        response = local.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        text = response.text
        assert 'ticketdesk_http_requests_total{method="GET",route="/healthz",status="200"}' in text
        assert 'route="/api/v1/tickets/{ref}",status="401"' in text
        assert "ticketdesk_http_request_duration_seconds_bucket" in text
        assert "ticketdesk_db_connections_in_use" in text
        assert "ticketdesk_sla_breached_tickets 0.0" in text
    with TestClient(create_app(on), client=("203.0.113.7", 5000)) as remote:
        assert remote.get("/metrics").status_code == 404


def test_fastapi_opentelemetry_hooks_follow_the_processs_opentelemetry_setup(monkeypatch):
    """Off by default (they cost every request a look at the global providers); on as soon as
    an OTEL_* variable configures the process."""
    for name in [name for name in os.environ if name.startswith("OTEL_")]:
        monkeypatch.delenv(name)
    assert create_app()._telemetry["tracing"] is False
    monkeypatch.setenv("OTEL_SERVICE_NAME", "ticketdesk")
    assert create_app()._telemetry["tracing"] is True
