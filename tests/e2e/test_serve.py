"""The real `taskspool serve` on SQLite and on PostgreSQL: 202, then completed, then the CSV."""

from __future__ import annotations

import csv
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

TASKSPOOL = Path(sys.executable).parent / "taskspool"
PATIENCE = 30.0
COLUMNS = ["name", "note", "address", "city"]
ROWS = [
    ["Zoë, Ltd.", 'she said "hi"', "1 Main St\nFloor 2", "東京"],
    ["Ada", "", "12 St James's Sq", "London"],
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Service:
    """A running `taskspool serve` process and how to reach it."""

    def __init__(
        self, process: subprocess.Popen[bytes], base_url: str, env: dict[str, str], log: Path
    ) -> None:
        self.process = process
        self.base_url = base_url
        self.env = env
        self.log = log

    def taskspool(self, *argv: str) -> str:
        result = subprocess.run(
            [str(TASKSPOOL), *argv],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return result.stdout.strip()

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"taskspool serve exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        pytest.fail(f"taskspool serve did not come up:\n{self.log.read_text()}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TASKSPOOL_DATA_DIR": str(tmp_path / "data"),
    }
    if request.param == "postgres":
        # A fresh, empty database: the operator migrates it explicitly, as the README says.
        env["DATABASE_URL"] = request.getfixturevalue("empty_postgres_url")
        subprocess.run([str(TASKSPOOL), "migrate"], env=env, check=True, timeout=60)
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(TASKSPOOL), "serve", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    running = Service(process, f"http://127.0.0.1:{port}", env, log)
    try:
        running.wait_until_healthy()
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(PATIENCE)


def poll_until_finished(client: httpx.Client, url: str) -> dict[str, Any]:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        task: dict[str, Any] = client.get(url).raise_for_status().json()
        if task["status"] in {"completed", "failed", "cancelled"}:
            return task
        time.sleep(0.02)
    pytest.fail(f"task at {url} did not finish")


def test_a_csv_export_goes_from_202_to_completed(service: Service, tmp_path: Path) -> None:
    token = service.taskspool("token", "--user", "ada")
    headers = {"Authorization": f"Bearer {token}"}

    with httpx.Client(base_url=service.base_url, headers=headers, timeout=10) as client:
        accepted = client.post(
            "/api/csv/generate", json={"columns": COLUMNS, "rows": ROWS, "filename": "people.csv"}
        )
        assert accepted.status_code == 202
        assert accepted.headers["location"] == accepted.json()["statusUrl"]

        task = poll_until_finished(client, accepted.headers["location"])
        listed = client.get("/api/tasks", params={"status": "completed", "type": "csv_generation"})

    assert task["status"] == "completed", task
    assert listed.json()["total"] == 1
    assert listed.json()["items"][0]["taskId"] == task["taskId"]

    path = Path(task["result"]["path"])
    assert path == (tmp_path / "data" / "csv" / "ada" / "people.csv").resolve()
    raw = path.read_bytes()
    assert task["result"] == {"path": str(path), "rows": 2, "bytes": len(raw)}
    text = raw.decode("utf-8")
    assert '"Zoë, Ltd.","she said ""hi""","1 Main St\nFloor 2",東京\r\n' in text
    assert list(csv.reader(io.StringIO(text, newline=""))) == [COLUMNS, *ROWS]

    # The CLI reads the same database the server writes.
    assert f"{task['taskId']}  completed" in service.taskspool("tasks", "list", "--user", "ada")

    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    service.process.send_signal(signal.SIGTERM)
    assert service.process.wait(PATIENCE) in {0, -signal.SIGTERM}
    log = service.log.read_text()
    assert "stopped; released 0 tasks" in log
    assert "Traceback" not in log


def test_serve_on_a_port_in_use_says_so_in_one_line_and_starts_nothing(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"PATH": "/usr/bin:/bin", "TASKSPOOL_DATA_DIR": str(tmp_path / "data")}

        result = subprocess.run(
            [str(TASKSPOOL), "serve", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=PATIENCE,
            check=False,
        )

    assert result.returncode == 1
    assert (
        result.stderr == f"taskspool: cannot listen on 127.0.0.1:{port}: address already in use\n"
    )
    assert not (tmp_path / "data").exists()  # no storage prepared, no worker started
