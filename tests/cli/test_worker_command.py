"""`taskspool worker` as a process: it starts on the SQLite default and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

TASKSPOOL = Path(sys.executable).parent / "taskspool"
PATIENCE = 30.0


def wait_for_line(log: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if text in log.read_text(encoding="utf-8", errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.05)
    pytest.fail(f"never saw {text!r} in the worker's log:\n{log.read_text()}")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_worker_command_stops_cleanly_on_a_signal(tmp_path: Path, signum: int) -> None:
    log = tmp_path / "worker.log"
    env = {"PATH": "/usr/bin:/bin", "TASKSPOOL_DATA_DIR": str(tmp_path / "data")}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(TASKSPOOL), "worker"], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_for_line(log, "started with 4 slots", process)

        process.send_signal(signum)

        assert process.wait(PATIENCE) == 0
        assert "stopped; released 0 tasks" in log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(PATIENCE)
