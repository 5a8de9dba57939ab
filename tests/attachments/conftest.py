"""Attachment tests run against both stores: a local folder and a real S3 endpoint (moto's
server mode on 127.0.0.1, a real HTTP server, not a mock of the client)."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.conftest import _settings
from tests.factories import API, Actor
from tests.servers import free_port
from ticketdesk.config import Settings

BUCKET = "ticketdesk-test"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free port of 127.0.0.1, with the test bucket."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test-access-key")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test-secret-key")
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    )
    s3.create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture(params=["file", "s3"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Settings:
    """The app's settings; tests that ask for `store_kind` run on both stores."""
    base = _settings(database_url, tmp_path)
    marker = request.node.get_closest_marker("upload_settings")
    overrides: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    if "store_kind" in request.fixturenames and request.getfixturevalue("store_kind") == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        overrides |= {
            "storage_url": f"s3://{BUCKET}/{uuid.uuid4().hex}",
            "s3_endpoint_url": endpoint,
            "s3_region": "us-east-1",
        }
    return base.model_copy(update=overrides)


def upload(
    client: TestClient,
    actor: Actor,
    ticket_id: int | str,
    *named: tuple[str, bytes],
    content_type: str = "application/octet-stream",
    **fields: Any,
) -> Response:
    """POST /tickets/{id}/attachments with `file` parts and form fields."""
    parts = [("file", (name, data, content_type)) for name, data in named]
    data = {key: str(value).lower() if isinstance(value, bool) else str(value)
            for key, value in fields.items()}  # fmt: skip
    return client.post(
        f"{API}/tickets/{ticket_id}/attachments", files=parts, data=data, headers=actor.headers
    )


def upload_ok(
    client: TestClient, actor: Actor, ticket_id: int | str, *named: tuple[str, bytes], **fields: Any
) -> list[dict[str, Any]]:
    response = upload(client, actor, ticket_id, *named, **fields)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
