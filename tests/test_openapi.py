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
