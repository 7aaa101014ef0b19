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


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", None])
def test_a_body_not_declared_as_json_is_415_naming_application_json(
    client: Client, ada: Headers, path: str, content_type: str | None
) -> None:
    headers = dict(ada) if content_type is None else {**ada, "Content-Type": content_type}

    response = client.post(path, content=b'{"keywords": ["python"]}', headers=headers)

    assert response.status_code == 415, response.text
    assert response.json()["error"] == "unsupported_media_type"
    assert "application/json" in response.json()["message"]


def test_json_with_a_charset_parameter_is_accepted(client: Client, ada: Headers) -> None:
    response = client.post(
        "/api/jobs/fetch",
        content=b"{}",
        headers={**ada, "Content-Type": "application/json; charset=utf-8"},
    )

    assert response.status_code == 202, response.text


def test_a_post_without_a_body_parameter_needs_no_content_type(
    client: Client, ada: Headers
) -> None:
    task_id = client.post("/api/jobs/fetch", json={}, headers=ada).json()["taskId"]

    response = client.post(f"/api/tasks/{task_id}/cancel", headers=ada)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
@pytest.mark.parametrize("body", [b"", b"  \n"], ids=["empty", "blank"])
def test_an_empty_body_is_400_asking_for_a_json_object(
    client: Client, ada: Headers, path: str, body: bytes
) -> None:
    response = client.post(path, content=body, headers={**ada, "Content-Type": "application/json"})

    assert response.status_code == 400, response.text
    assert response.json()["message"] == "the request body is empty; a JSON object is required"


@pytest.mark.parametrize(
    "text",
    ["\\ud800", "\\udc00", "a\\ud800b", "\\ud800\\ud800"],
    ids=["high", "low", "inside", "two-highs"],
)
def test_an_unpaired_surrogate_is_400_saying_so(client: Client, ada: Headers, text: str) -> None:
    body = ('{"columns":["a"],"rows":[["' + text + '"]]}').encode()

    response = client.post(
        "/api/csv/generate", content=body, headers={**ada, "Content-Type": "application/json"}
    )

    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert "not valid UTF-8 JSON" in message
    assert "unpaired surrogate" in message


def test_a_paired_surrogate_escape_is_the_character_it_spells(client: Client, ada: Headers) -> None:
    body = b'{"columns":["a"],"rows":[["\\ud83d\\ude00 and \\\\ud800"]]}'

    response = client.post(
        "/api/csv/generate", content=body, headers={**ada, "Content-Type": "application/json"}
    )

    assert response.status_code == 202, response.text
    task = client.get(response.json()["statusUrl"], headers=ada).json()
    assert task["payload"]["rows"] == [["\U0001f600 and \\ud800"]]


@pytest.mark.parametrize(
    ("filename", "reason"),
    [
        ("a" * 251 + ".csv", "the limit is 200 bytes"),
        ("bad\x00name.csv", "NUL"),
        ("dir/name.csv", "path separator"),
        (".hidden.csv", "starts with a dot"),
    ],
    ids=["too-long", "nul", "separator", "dot"],
)
def test_a_bad_filename_is_400_saying_what_is_wrong(
    client: Client, ada: Headers, filename: str, reason: str
) -> None:
    body = {"columns": ["a"], "rows": [["1"]], "filename": filename}

    response = client.post("/api/csv/generate", json=body, headers=ada)

    assert response.status_code == 400, response.text
    assert response.json()["field"] == "filename"
    assert reason in response.json()["message"]
