"""An enqueue by another process wakes an idle worker: NOTIFY on PostgreSQL, a commit on SQLite."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from application.actor import Actor
from domain.task import JsonObject, Task
from entrypoints.container import Container, build_container
from entrypoints.settings import Settings
from entrypoints.storage import notifications, prepare_storage
from tests.worker.signals import WatchedSignal

PATIENCE = 10.0


def container_for(url: str, data_dir: Path) -> Container:
    settings = Settings.from_env(
        {
            "TASKSPOOL_DATA_DIR": str(data_dir),
            "DATABASE_URL": url,
            # An hour: only a wake-up can get the task picked up within the test.
            "WORKER_POLL_INTERVAL_MS": "3600000",
        }
    )
    return build_container(settings)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[Container]:
    container = container_for(database_url, tmp_path / "api")
    yield container
    container.engine().dispose()


@pytest.fixture
def worker_side(database_url: str, tmp_path: Path) -> Iterator[Container]:
    container = container_for(database_url, tmp_path / "worker")
    yield container
    container.engine().dispose()


def test_an_enqueue_in_another_process_wakes_an_idle_worker(
    api: Container, worker_side: Container
) -> None:
    ran = threading.Event()

    def handler(task: Task, /) -> JsonObject:
        ran.set()
        return {}

    worker_side.handlers.override({"job": handler})
    signal = WatchedSignal()
    worker_side.signal.override(signal)
    prepare_storage(worker_side)
    worker = worker_side.worker()
    thread = threading.Thread(target=worker.run, daemon=True)
    with notifications(worker_side):
        thread.start()
        try:
            assert signal.waiting.wait(PATIENCE), "the worker never went idle"
            # The API side has its own in-process signal: only the store's wake-up
            # (NOTIFY, or the SQLite watcher seeing a commit) reaches the worker.
            api.task_service().enqueue(actor=Actor(name="ada"), type="job", payload={})
            assert ran.wait(PATIENCE)
        finally:
            worker.stop()
            thread.join(PATIENCE)
    assert not thread.is_alive()
