"""Small factories for tests: users straight into the database, tickets through the API."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from ticketdesk import clock, db
from ticketdesk.auth import security
from ticketdesk.auth import service as accounts
from ticketdesk.auth.models import Role

API = "/api/v1"
PASSWORD = "correct-horse-battery"
DEFAULT_SLA = {"urgent": (15, 240), "high": (60, 480), "medium": (240, 1440), "low": (480, 2880)}
CUSTOMER_ROLES = ("individual", "enterprise", "sub_user")
STAFF_ROLES = ("agent", "super_admin")
ALL_ROLES = CUSTOMER_ROLES + STAFF_ROLES


class FakeClock:
    """A clock that stands still until told to move."""

    def __init__(self, start: datetime = datetime(2025, 1, 6, 10, 0, tzinfo=UTC)) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, when: datetime) -> None:
        self.current = when


@dataclass
class Actor:
    id: int
    email: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_user(
    client: TestClient,
    role: str = "individual",
    *,
    email: str | None = None,
    name: str | None = None,
    password: str = PASSWORD,
) -> Actor:
    sessionmaker = client.app.state.sessionmaker  # type: ignore[attr-defined]
    count = getattr(client, "_user_count", 0) + 1
    client._user_count = count  # type: ignore[attr-defined]
    email = email or f"{role}{count}@example.com"

    async def _create() -> Any:
        async with db.session_scope(sessionmaker) as session:
            return await accounts.create_user(
                session,
                email=email,
                password=password,
                full_name=name or f"{role.title()} {count}",
                role=Role(role),
            )

    user = client.portal.call(_create)  # type: ignore[union-attr]
    return Actor(user.id, user.email, role, token_for(client, user.id))


def token_for(client: TestClient, user_id: int, *, lifetime: timedelta = timedelta(days=3650)) -> str:
    key = client.app.state.signing_key  # type: ignore[attr-defined]
    return security.issue_token(user_id, key=key, now=clock.now(), lifetime=lifetime)


People = dict[str, Actor]


def make_people(client: TestClient) -> People:
    people = {role: make_user(client, role) for role in ALL_ROLES}
    people["other"] = make_user(client, "individual")
    return people


def make_ticket(client: TestClient, actor: Actor, **fields: Any) -> dict[str, Any]:
    body = {"subject": "Unable to generate report", "description": "It fails.", **fields}
    response = client.post(f"{API}/tickets/", json=body, headers=actor.headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]
