"""The composition root the commands build on: lazy, and replaceable piece by piece."""

from __future__ import annotations

from pathlib import Path

from adapters.memory import InMemoryTaskRepository
from adapters.sql.sqlite import SqliteTaskRepository
from application.actor import Actor
from application.handlers.csv_generation import CsvGenerationHandler
from entrypoints.container import build_container
from entrypoints.settings import Settings


def test_building_a_container_creates_and_connects_to_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "not-yet"

    build_container(Settings.from_env({"TASKSPOOL_DATA_DIR": str(data_dir)}))

    assert not data_dir.exists()


def test_memory_storage_is_one_shared_store(tmp_path: Path) -> None:
    container = build_container(
        Settings.from_env({"TASKSPOOL_DATA_DIR": str(tmp_path), "DATABASE_URL": "memory://"})
    )

    assert isinstance(container.repository(), InMemoryTaskRepository)
    assert container.repository() is container.repository()


def test_csv_generation_is_registered_and_writes_to_the_configured_directory(
    tmp_path: Path,
) -> None:
    container = build_container(
        Settings.from_env(
            {"TASKSPOOL_DATA_DIR": str(tmp_path), "CSV_OUTPUT_DIR": str(tmp_path / "out")}
        )
    )

    handler = container.handlers()["csv_generation"]

    assert isinstance(handler, CsvGenerationHandler)
    assert container.files().write("x.csv", b"a\r\n", owner="ada") == str(
        (tmp_path / "out" / "ada" / "x.csv").resolve()
    )


def test_the_processor_follows_the_retry_and_lease_settings(tmp_path: Path) -> None:
    container = build_container(
        Settings.from_env(
            {
                "TASKSPOOL_DATA_DIR": str(tmp_path),
                "BACKOFF_BASE_SECONDS": "2",
                "BACKOFF_CAP_SECONDS": "60",
                "STALE_AFTER_SECONDS": "50",
            }
        )
    )

    assert container.backoff().delay(3).total_seconds() == 8
    assert container.backoff().delay(30).total_seconds() == 60
    assert container.lease().heartbeat_every().total_seconds() == 10


def test_sqlite_storage_is_the_default_and_shares_one_engine(tmp_path: Path) -> None:
    container = build_container(Settings.from_env({"TASKSPOOL_DATA_DIR": str(tmp_path)}))
    try:
        assert isinstance(container.repository(), SqliteTaskRepository)
        assert container.repository() is container.repository()
        assert str(container.engine().url) == f"sqlite:///{tmp_path / 'taskspool.db'}"
    finally:
        container.engine().dispose()


def test_enqueued_tasks_get_time_ordered_ids(tmp_path: Path) -> None:
    container = build_container(
        Settings.from_env({"TASKSPOOL_DATA_DIR": str(tmp_path), "DATABASE_URL": "memory://"})
    )

    task = container.task_service().enqueue(actor=Actor(name="ada"), type="noop", payload={})

    assert task.id.version == 7
