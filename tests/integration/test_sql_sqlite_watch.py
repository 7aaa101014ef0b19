"""The SQLite watcher: another connection's commit wakes the worker; idleness does not."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from adapters.sql.engine import make_engine
from adapters.sql.sqlite import SqliteTaskRepository
from adapters.sql.sqlite_watch import Pace, SqliteChangeWatcher
from tests.support.tasks import at, new_task

PATIENCE = 10.0


@pytest.fixture
def other_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


def test_a_commit_by_another_connection_wakes_the_watcher(
    sqlite_engine: Engine, other_engine: Engine
) -> None:
    woke = threading.Event()
    watcher = SqliteChangeWatcher(sqlite_engine, on_change=woke.set)
    watcher.start()
    try:
        SqliteTaskRepository(other_engine).add(new_task())
        assert woke.wait(PATIENCE)
    finally:
        watcher.stop()


def test_a_claim_that_finds_nothing_wakes_no_one(
    sqlite_engine: Engine, other_engine: Engine
) -> None:
    wakes: list[None] = []
    woke = threading.Event()

    def on_change() -> None:
        wakes.append(None)
        woke.set()

    watcher = SqliteChangeWatcher(sqlite_engine, on_change=on_change)
    watcher.start()
    try:
        for _ in range(5):
            assert SqliteTaskRepository(other_engine).claim(now=at(1), worker_id="w", limit=9) == []
        SqliteTaskRepository(other_engine).add(new_task())
        assert woke.wait(PATIENCE)
    finally:
        watcher.stop()
    assert len(wakes) == 1  # the add's; the empty claims changed nothing


def test_the_watcher_looks_quickly_for_a_while_after_a_change() -> None:
    pace = Pace(quiet=0.010, busy=0.001, busy_for=1.0)

    assert pace.wait(since_change=0.0) == 0.001
    assert pace.wait(since_change=0.999) == 0.001


def test_the_watcher_looks_at_its_quiet_pace_once_changes_stop() -> None:
    pace = Pace(quiet=0.010, busy=0.001, busy_for=1.0)

    assert pace.wait(since_change=1.0) == 0.010
    assert pace.wait(since_change=float("inf")) == 0.010
