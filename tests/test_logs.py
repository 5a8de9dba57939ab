"""Request log lines: JSON with the request id, user, route, status and duration; no secrets."""

import json
import logging

from tests.factories import API, PASSWORD, make_user
from ticketdesk import logs


def test_request_lines_are_json_with_the_request_id_and_no_secrets(client, caplog):
    ada = make_user(client, "individual")
    formatter = logs.JSONFormatter()
    with caplog.at_level(logging.INFO, logger="ticketdesk.access"):
        client.post(
            f"{API}/auth/login",
            json={"email": ada.email, "password": PASSWORD},
            headers={"X-Request-ID": "req-login-1"},
        )
        client.post(f"{API}/auth/login", json={"email": ada.email, "password": "wrong-guess-9"})
        client.get(f"{API}/auth/me", headers={**ada.headers, "X-Request-ID": "req-me-1"})
    lines = []
    for record in caplog.records:
        if record.name != "ticketdesk.access":
            continue
        lines.append(formatter.format(record))
    entries = [json.loads(line) for line in lines]
    by_id = {entry.get("request_id"): entry for entry in entries}
    assert by_id["req-login-1"]["status"] == 200
    assert by_id["req-login-1"]["route"] == "/api/v1/auth/login"
    me = by_id["req-me-1"]
    assert (me["user_id"], me["status"], me["method"]) == (ada.id, 200, "GET")
    assert isinstance(me["duration_ms"], float)
    text = "\n".join(lines)
    for secret in (PASSWORD, "wrong-guess-9", ada.token):
        assert secret not in text


def test_extra_fields_named_like_secrets_are_dropped():
    record = logging.makeLogRecord({"msg": "x", "password": "p", "token": "t", "route": "/r"})
    entry = json.loads(logs.JSONFormatter().format(record))
    assert entry["route"] == "/r"
    assert "password" not in entry and "token" not in entry
