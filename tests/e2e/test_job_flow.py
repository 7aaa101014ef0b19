"""The four task types end to end through the real `taskspool serve` process.

A local HTTP server plays the job feed and aiosmtpd the mail server; the test
fetches, matches with `notify`, exports the matches with `notify`, then checks the
two messages that arrived and downloads the CSV. Once on SQLite, once on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from entrypoints.http.auth import mint_token
from tests.integration.feed_server import FeedServer, feed_body
from tests.integration.smtp_server import Inbox, free_port, smtp_server

SECRET = "e2e-secret-" + "y" * 40
DEADLINE = timedelta(seconds=30)
FEED: list[dict[str, Any]] = [
    {
        "id": "p1",
        "title": "Senior Python Engineer",
        "company": "Acme, Inc.",
        "location": "Berlin",
        "description": "Python and PostgreSQL",
        "postedAt": "2026-11-30",
    },
    {
        "id": "p2",
        "title": "Python Developer",
        "company": "Beta",
        "location": "Remote",
        "remote": True,
        "description": "=cmd|' /C calc'!A0 is not a formula here",
        "postedAt": "2026-11-29",
    },
    {"id": "p3", "title": "Pastry Chef", "company": "Crumbs", "location": "Berlin"},
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'e2e.db'}"
    return str(request.getfixturevalue("empty_postgres_url"))


@pytest.fixture
def feed() -> Iterator[FeedServer]:
    with FeedServer().running() as server:
        server.serve("/jobs.json", feed_body(FEED))
        yield server


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def service(
    database_url: str, tmp_path: Path, feed: FeedServer, inbox: tuple[Inbox, int]
) -> Iterator[httpx.Client]:
    port = free_port()
    env = {
        **os.environ,
        "TASKSPOOL_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": database_url,
        "TASKSPOOL_SECRET": SECRET,
        "TASKSPOOL_AUTO_MIGRATE": "1",
        "JOB_FEED_URL": feed.url("/jobs.json"),
        "SMTP_URL": f"smtp://127.0.0.1:{inbox[1]}",
        "MAIL_FROM": "taskspool@example.org",
        "WORKER_POLL_INTERVAL_MS": "200",
    }
    command = [str(Path(sys.executable).with_name("taskspool")), "serve", "--port", str(port)]
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    token = mint_token(secret=SECRET, user="ada", now=datetime.now(UTC), ttl=timedelta(hours=1))
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    try:
        _wait_until_up(client, process, tmp_path / "serve.log")
        yield client
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_until_up(client: httpx.Client, process: subprocess.Popen[bytes], log: Path) -> None:
    give_up = time.monotonic() + DEADLINE.total_seconds()
    while time.monotonic() < give_up:
        if process.poll() is not None:
            pytest.fail(f"taskspool serve exited: {log.read_text()}")
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"taskspool serve did not come up: {log.read_text()}")


def _settled(client: httpx.Client, task_id: str) -> dict[str, Any]:
    give_up = time.monotonic() + DEADLINE.total_seconds()
    while time.monotonic() < give_up:
        task = client.get(f"/api/tasks/{task_id}").json()
        if task["status"] in ("completed", "failed", "cancelled"):
            return dict(task)
        time.sleep(0.05)
    pytest.fail(f"task {task_id} did not settle: {task}")


def _run(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code == 202, response.text
    task = _settled(client, response.json()["taskId"])
    assert task["status"] == "completed", task
    return task


def test_fetch_match_export_and_mail_run_end_to_end(
    service: httpx.Client, inbox: tuple[Inbox, int]
) -> None:
    fetched = _run(service, "/api/jobs/fetch", {})
    assert fetched["result"] == {"source": "default", "fetched": 3, "created": 3, "updated": 0}

    matching = _run(
        service,
        "/api/matching/run",
        {"keywords": ["python"], "location": "Berlin", "notify": "grace@example.com"},
    )
    assert matching["result"]["matched"] == 2
    assert [m["title"] for m in matching["result"]["top"]] == [
        "Senior Python Engineer",
        "Python Developer",
    ]
    assert _settled(service, matching["result"]["notifyTaskId"])["status"] == "completed"

    export = _run(
        service,
        "/api/csv/generate",
        {"export": "matches", "matchingTaskId": matching["taskId"], "notify": "grace@example.com"},
    )
    assert _settled(service, export["result"]["notifyTaskId"])["status"] == "completed"

    download = service.get(f"/api/csv/{export['taskId']}/download")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8"))))
    assert [(r[0], r[5], r[6]) for r in rows[1:]] == [
        ("1", "Senior Python Engineer", "Acme, Inc."),
        ("2", "Python Developer", "Beta"),
    ]
    assert rows[2][-1].startswith("'=cmd")

    received = {message["Subject"]: message for message in inbox[0].messages}
    assert len(inbox[0].messages) == 2
    matches_mail = received["2 job postings match python"]
    export_mail = received[f"CSV export ready: {export['taskId']}.csv"]
    assert matches_mail["To"] == "grace@example.com"
    assert matches_mail["Message-ID"] == f"<{matching['taskId']}@example.org>"
    body = matches_mail.get_body(preferencelist=("plain",))
    assert body is not None
    assert "1. Senior Python Engineer (Acme, Inc., Berlin)" in body.get_content()
    [attachment] = export_mail.iter_attachments()
    assert attachment.get_payload(decode=True) == download.content
