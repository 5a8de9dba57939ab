"""The OpenAPI document reads as a reference: every operation named, summarised, described,
tagged, and with every error it may answer documented with its body."""

import re

import pytest

pytestmark = pytest.mark.shared_database

CAMEL_CASE = re.compile(r"[a-z]+(?:[A-Z][a-z0-9]+)+")
ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
FIELD_PROBLEMS = {"$ref": "#/components/schemas/HTTPValidationError"}


@pytest.fixture(scope="module")
def document(module_client):
    response = module_client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def test_every_operation_is_named_summarised_described_and_tagged(document):
    ids = []
    for method, path, operation in _operations(document):
        where = (method, path)
        assert CAMEL_CASE.fullmatch(operation["operationId"]), where
        assert operation.get("summary", "").strip(), where
        assert operation.get("description", "").strip(), where
        assert operation.get("tags"), where
        ids.append(operation["operationId"])
    assert len(ids) == len(set(ids)) > 90
    by_id = {op["operationId"]: (m, p) for m, p, op in _operations(document)}
    assert by_id["createTicket"] == ("POST", "/api/v1/tickets")
    assert by_id["getTicket"] == ("GET", "/api/v1/tickets/{ref}")


def test_every_operation_documents_its_errors(document):
    for method, path, operation in _operations(document):
        if not path.startswith("/api/v1/"):
            continue
        responses = operation["responses"]
        expected = {"422", "503"}
        if operation.get("security"):
            expected |= {"401", "403", "429"}
        if "{" in path:
            expected.add("404")
        if "requestBody" in operation:
            expected |= {"400", "413"}
        assert expected <= set(responses), (method, path, sorted(expected - set(responses)))
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert schema == (FIELD_PROBLEMS if status == "422" else ERROR_BODY), (
                    method,
                    path,
                    status,
                )
                assert response["description"], (method, path, status)


def test_rules_of_a_route_add_their_own_errors(document):
    paths = document["paths"]
    status_change = paths["/api/v1/tickets/{ref}/status"]["post"]["responses"]
    assert {"409", "412"} <= set(status_change)
    assert "412" in paths["/api/v1/tickets/{ref}"]["patch"]["responses"]
    assert "409" in paths["/api/v1/users"]["post"]["responses"]
    assert {"401", "429"} <= set(paths["/api/v1/auth/login"]["post"]["responses"])
    # A route that cannot conflict says nothing about it.
    assert "409" not in paths["/api/v1/tickets"]["get"]["responses"]
    assert "404" not in paths["/api/v1/tickets"]["get"]["responses"]


def test_the_error_body_is_described(document):
    schema = document["components"]["schemas"]["ErrorBody"]
    assert schema["required"] == ["detail"]


def test_the_docs_pages_use_only_local_files(module_client):
    for path, script in (
        ("/api/docs", "/assets/swagger-ui-bundle.js"),
        ("/api/redoc", "/assets/redoc.standalone.js"),
    ):
        page = module_client.get(path)
        assert page.status_code == 200
        assert script in page.text
        assert "/api/openapi.json" in page.text
        assert "https://" not in page.text, path
        asset = module_client.get(script)
        assert asset.status_code == 200
        assert asset.headers["content-type"].startswith("text/javascript")
    assert (
        module_client.get("/assets/swagger-ui.css").headers["content-type"].startswith("text/css")
    )
    redirect = module_client.get("/docs", follow_redirects=False)
    assert redirect.status_code == 308
    assert redirect.headers["location"] == "/api/docs"


def test_every_field_and_parameter_is_described(document):
    undescribed = [
        f"{name}.{field}"
        for name, schema in document["components"]["schemas"].items()
        for field, prop in schema.get("properties", {}).items()
        if not prop.get("description", "").strip()
    ]
    assert undescribed == []
    parameters = [
        (method, path, parameter["name"])
        for method, path, operation in _operations(document)
        for parameter in operation.get("parameters", [])
        if not parameter.get("description", "").strip()
    ]
    assert parameters == []
    # A model's own description wins over the shared vocabulary.
    ticket = document["components"]["schemas"]["TicketCreate"]["properties"]
    assert ticket["subject"]["description"] == "1 to 200 characters, trimmed."
    assert (
        "TKT-" in document["paths"]["/api/v1/tickets/{ref}"]["get"]["parameters"][0]["description"]
    )


def _example(document, schema):
    examples = document["components"]["schemas"][schema]["examples"]
    assert len(examples) == 1
    return examples[0]


def test_request_examples_work_when_sent_as_they_are(document, module_client, module_people):
    """What Execute sends in the docs page, by the role that may call the operation."""
    customer, agent, admin = (
        module_people["individual"],
        module_people["agent"],
        module_people["super_admin"],
    )
    sent = {}

    def send(path, schema, actor):
        body = _example(document, schema)
        response = module_client.post(path, json=body, headers=actor.headers)
        assert response.status_code in (200, 201), (schema, response.text)
        sent[schema] = response.json()
        return sent[schema]

    ticket = send("/api/v1/tickets", "TicketCreate", customer)
    assert ticket["priority"] == "high"
    send(f"/api/v1/tickets/{ticket['id']}/comments", "CommentCreate", customer)
    changed = send(f"/api/v1/tickets/{ticket['id']}/status", "StatusChange", agent)
    assert changed["status"] == "in_progress"
    macro = send("/api/v1/macros", "MacroIn", agent)
    assert macro["actions"]["add_tags"] == ["logs"]
    send("/api/v1/custom-fields", "CustomFieldIn", admin)
    send("/api/v1/organizations", "OrganizationCreate", admin)
    token = send("/api/v1/auth/tokens", "ApiTokenCreate", customer)
    assert token["scopes"] == ["tickets:read"]
    for status in ("resolved", "closed"):
        response = module_client.post(
            f"/api/v1/tickets/{ticket['id']}/status", json={"status": status}, headers=agent.headers
        )
        assert response.status_code == 200, response.text
    rating = send(f"/api/v1/tickets/{ticket['id']}/satisfaction", "RatingIn", customer)
    assert rating["rating"] == "good"
    updated = module_client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json=_example(document, "TicketUpdate"),
        headers=agent.headers,
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["tags"] == ["report", "outage"]
    send("/api/v1/tickets/sla/config", "PolicyIn", admin)
    hours = module_client.put(
        "/api/v1/tickets/sla/business-hours",
        json=_example(document, "BusinessHoursIn"),
        headers=admin.headers,
    )
    assert hours.status_code == 200, hours.text
    send("/api/v1/ticket-templates", "TemplateIn", admin)
    user = send("/api/v1/users", "UserCreate", admin)
    assert user["role"] == "agent"
    # The rule's example names agent 1; its description says to put a real agent's id there.
    rule = _example(document, "RuleIn")
    assert rule["agent_ids"] == [1]
    assert (
        "1 stands for"
        in document["components"]["schemas"]["RuleIn"]["properties"]["agent_ids"]["description"]
    )
    response = module_client.post(
        "/api/v1/assignment-rules", json=rule | {"agent_ids": [agent.id]}, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    # WebhookCreate's host must resolve to a public address, which needs DNS (next test).


def test_the_webhook_example_is_accepted_where_the_name_need_not_resolve(
    document, database_url, tmp_path
):
    """The example's host (hooks.example.com) is checked against the SSRF rules by resolving
    it; with private targets allowed (webhook_allow_private) the server takes the name as it
    is, so the rest of the example is checked here without DNS."""
    from fastapi.testclient import TestClient

    from tests.conftest import _settings
    from tests.factories import make_user
    from ticketdesk.main import create_app

    settings = _settings(database_url, tmp_path).model_copy(update={"webhook_allow_private": True})
    with TestClient(create_app(settings)) as client:
        admin = make_user(client, "super_admin")
        body = _example(document, "WebhookCreate")
        response = client.post("/api/v1/webhooks", json=body, headers=admin.headers)
        assert response.status_code == 201, response.text
        assert response.json()["event_types"] == ["ticket.created", "comment.created"]


def _nullable(prop):
    return any(option.get("type") == "null" for option in prop.get("anyOf", []))


def test_fields_that_refuse_null_are_not_called_nullable(document):
    from pydantic import ValidationError

    from ticketdesk.assignment_rules.schemas import RuleUpdate
    from ticketdesk.auth.schemas import UserUpdate
    from ticketdesk.ticket_templates.schemas import TemplateUpdate
    from ticketdesk.tickets.schemas import BulkIn

    schemas = document["components"]["schemas"]
    bulk_actions = {"status": "status"}
    for model in (UserUpdate, RuleUpdate, TemplateUpdate, BulkIn):
        properties = schemas[model.__name__]["properties"]
        assert model.null_refused
        for field in model.null_refused:
            assert not _nullable(properties[field]), (model.__name__, field)
            body = {field: None}
            if model is BulkIn:
                body |= {"ticket_ids": [1], "action": bulk_actions.get(field, "update")}
            with pytest.raises(ValidationError, match="null"):
                model.model_validate(body)
        # What the server takes as null stays nullable.
        for field in set(properties) - model.null_refused:
            if field in {"ticket_ids", "action"}:
                continue
            assert _nullable(properties[field]), (model.__name__, field)
    # A NoNulls model refuses null in every field.
    assert not any(_nullable(p) for p in schemas["TicketUpdate"]["properties"].values())
