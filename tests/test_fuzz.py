"""A schema-driven fuzzer (schemathesis over /api/openapi.json) as a super admin and as a
customer: no answer is a 5xx, and every answer is one the document describes (its status,
content type, headers and body schema). The number of examples per operation is bounded so
the module stays within a few minutes."""

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks

from tests.conftest import TEST_SECRET
from tests.factories import Actor, make_ticket, make_user
from ticketdesk.config import Settings
from ticketdesk.main import create_app

pytestmark = pytest.mark.shared_database

EXAMPLES = int(os.environ.get("TICKETDESK_FUZZ_EXAMPLES", "10"))
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


# The document is built without a database; the calls go to the module's running app.
schema = schemathesis.openapi.from_dict(
    create_app(Settings(secret_key=TEST_SECRET, database_url="sqlite://")).openapi()
)


class Callers:
    """One caller per role, replaced when the fuzzer has locked it out (a changed password,
    a deactivated or anonymized account)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.actors: dict[str, Actor] = {}

    def get(self, role: str) -> Actor:
        actor = self.actors.get(role)
        if actor is None or self.client.get("/api/v1/auth/me", headers=actor.headers).is_error:
            actor = self.actors[role] = make_user(self.client, role)
            # Something to find: a ticket of the caller's own.
            make_ticket(self.client, actor)
        return actor


@pytest.fixture(scope="module")
def callers(module_client: Any) -> Callers:
    return Callers(module_client)


def _call(case: Any, client: Any, actor: Actor) -> None:
    kwargs = case.as_transport_kwargs(headers=actor.headers)
    kwargs.pop("base_url", None)
    response = client.request(**kwargs)
    assert response.status_code < 500, (case.method, case.formatted_path, response.text)
    case.validate_response(response, checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_fuzz_as_super_admin(case: Any, module_client: Any, callers: Callers) -> None:
    _call(case, module_client, callers.get("super_admin"))


@schema.parametrize()
@FUZZ
def test_fuzz_as_customer(case: Any, module_client: Any, callers: Callers) -> None:
    _call(case, module_client, callers.get("individual"))
