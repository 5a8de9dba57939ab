"""The SSRF guard: at save time (422) and again at send time."""

import asyncio
import ipaddress

import pytest

from tests.factories import API, make_ticket, run_jobs
from ticketdesk.webhooks import sender, ssrf
from ticketdesk.webhooks.models import Webhook

HOOKS = f"{API}/webhooks"

REFUSED = [
    "http://127.0.0.1/hook",
    "http://127.1.2.3:8080/hook",
    "http://10.0.0.5/hook",
    "http://172.16.4.2/hook",
    "http://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://100.64.0.1/hook",
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
    "http://255.255.255.255/hook",
    "http://[::1]/hook",
    "http://[::]/hook",
    "http://[fe80::1]/hook",
    "http://[fc00::1]/hook",
    "http://[ff02::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:10.0.0.1]/hook",
    "http://localhost:9000/hook",
    "http://LOCALHOST./hook",
]


@pytest.fixture
def guarded(settings):
    """The default: the guard is on."""
    return settings.model_copy(update={"webhook_allow_private": False})


@pytest.fixture
def client(guarded):
    from fastapi.testclient import TestClient

    from ticketdesk.main import create_app

    with TestClient(create_app(guarded)) as test_client:
        yield test_client


@pytest.mark.parametrize("url", REFUSED)
def test_internal_addresses_are_refused_at_save(client, people, url):
    admin = people["super_admin"].headers
    response = client.post(HOOKS, json={"url": url, "event_types": ["*"]}, headers=admin)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "url"]
    assert client.get(HOOKS, headers=admin).json() == []


def test_a_public_address_is_accepted_and_a_patch_is_checked_too(client, people):
    admin = people["super_admin"].headers
    response = client.post(
        HOOKS, json={"url": "https://93.184.215.14/hook", "event_types": ["*"]}, headers=admin
    )
    assert response.status_code == 201, response.text
    hook = response.json()
    response = client.patch(
        f"{HOOKS}/{hook['id']}", json={"url": "http://10.1.1.1/"}, headers=admin
    )
    assert response.status_code == 422
    shown = client.get(f"{HOOKS}/{hook['id']}", headers=admin).json()
    assert shown["url"] == "https://93.184.215.14/hook"


def test_the_check_is_repeated_at_send_time(client, people, receiver):
    """A webhook aimed at loopback (saved while the guard was off, say) is not called."""
    from tests.factories import in_db
    from ticketdesk import clock

    async def add(session):
        now = clock.now()
        session.add(
            Webhook(
                url=receiver.url.replace("127.0.0.1", "localhost"),
                description="",
                event_types=["*"],
                secret="whsec_" + "A" * 44,
                is_active=True,
                start_after_event_id=0,
                created_at=now,
                updated_at=now,
            )
        )

    in_db(client, add)
    from ticketdesk.webhooks import service

    service.forget_active()
    make_ticket(client, people["individual"])
    run_jobs(client)
    assert receiver.received == []
    rows = client.get(f"{HOOKS}/1/deliveries", headers=people["super_admin"].headers).json()
    assert rows[0]["last_error"].startswith("refused")
    assert rows[0]["attempts"] >= 1


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.0.0.1", "192.168.0.1", "169.254.0.1", "::1", "::ffff:192.168.0.1", "fd00::1"],
)
def test_forbidden_addresses(address):
    assert ssrf.forbidden(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses(address):
    assert not ssrf.forbidden(ipaddress.ip_address(address))


def test_every_address_of_a_name_must_pass(monkeypatch):
    """A name with one public and one private address is refused."""

    async def two_answers(_host, _port):
        return ["93.184.215.14", "10.0.0.7"]

    monkeypatch.setattr(ssrf, "resolve", two_answers)
    with pytest.raises(ssrf.Refused, match=r"10\.0\.0\.7"):
        asyncio.run(ssrf.check("https://mixed.example.org/", allow_private=False))


def test_the_sender_connects_to_the_checked_address():
    """No second lookup at connect time (DNS rebinding): the request goes to the address that
    was checked, with the name in the Host header and as the TLS server name."""
    target = ssrf.Target("https", "hooks.example.org", 8443, "93.184.215.14")
    url, headers, extensions = sender._aimed("https://hooks.example.org:8443/in?x=1", target)
    assert url == "https://93.184.215.14:8443/in?x=1"
    assert headers == {"host": "hooks.example.org:8443"}
    assert extensions == {"sni_hostname": "hooks.example.org"}
    target6 = ssrf.Target("http", "v6.example.org", 80, "2606:4700:4700::1111")
    url, headers, extensions = sender._aimed("http://v6.example.org/in", target6)
    assert url == "http://[2606:4700:4700::1111]:80/in"
    assert extensions == {}
