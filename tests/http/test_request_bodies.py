"""Rules every JSON POST endpoint shares, checked before a body is decoded."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from tests.http.conftest import Headers

Client = TestClient[Any]
JSON_ENDPOINTS = ["/api/csv/generate", "/api/jobs/fetch", "/api/matching/run"]


def nested_rows(depth: int) -> bytes:
    return b'{"columns":["a"],"rows":[[' + b"[" * depth + b"]" * depth + b"]]}"


def nested_unknown_field(depth: int) -> bytes:
    return b'{"x":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"


@pytest.mark.parametrize("depth", [1000, 5000])
@pytest.mark.parametrize("shape", [nested_rows, nested_unknown_field])
def test_a_body_nested_thousands_deep_is_400_saying_so(
    client: Client, ada: Headers, depth: int, shape: Any
) -> None:
    response = client.post(
        "/api/csv/generate",
        content=shape(depth),
        headers={**ada, "Content-Type": "application/json"},
    )

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert "nested too deeply" in response.json()["message"]


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
def test_every_json_endpoint_refuses_a_deeply_nested_body(
    client: Client, ada: Headers, path: str
) -> None:
    response = client.post(
        path,
        content=nested_unknown_field(1000),
        headers={**ada, "Content-Type": "application/json"},
    )

    assert response.status_code == 400, response.text
    assert "nested too deeply" in response.json()["message"]
