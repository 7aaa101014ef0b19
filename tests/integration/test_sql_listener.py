"""Instant pickup on PostgreSQL: an enqueue wakes a listening worker, even after a reconnect."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, text

from adapters.signal import EventSignal
from adapters.sql.notify import PostgresListener
from adapters.sql.postgres import PostgresTaskRepository
from tests.support.tasks import new_task

pytestmark = pytest.mark.postgres

#: Generous bounds for a loaded machine; the tests assert that a wake happened, not how fast.
WAKE_WAIT_S = 10.0


class Waiter:
    """Counts wakes and lets a test wait for the next one."""

    def __init__(self) -> None:
        self.wakes = 0
        self._condition = threading.Condition()

    def wake(self) -> None:
        with self._condition:
            self.wakes += 1
            self._condition.notify_all()

    def wait_for(self, wakes: int) -> bool:
        with self._condition:
            return self._condition.wait_for(lambda: self.wakes >= wakes, WAKE_WAIT_S)


@pytest.fixture
def waiter() -> Waiter:
    return Waiter()


@pytest.fixture
def listener(postgres_url: str, waiter: Waiter) -> Iterator[PostgresListener]:
    listener = PostgresListener(postgres_url, on_notify=waiter.wake)
    listener.start()
    yield listener
    listener.stop()


def test_an_enqueue_wakes_an_idle_worker_waiting_on_its_signal(
    postgres_url: str, postgres_engine: Engine
) -> None:
    signal = EventSignal()
    listener = PostgresListener(postgres_url, on_notify=signal.notify)
    listener.start()
    try:
        assert listener.listening

        PostgresTaskRepository(postgres_engine).add(new_task())

        assert signal.wait(WAKE_WAIT_S)
    finally:
        listener.stop()


def test_every_enqueue_wakes_the_listener(
    listener: PostgresListener, waiter: Waiter, postgres_engine: Engine
) -> None:
    repository = PostgresTaskRepository(postgres_engine)
    repository.add(new_task())
    assert waiter.wait_for(1)

    repository.add_many([new_task(), new_task()])

    assert waiter.wait_for(2)


def test_an_enqueue_rolled_back_wakes_nobody(
    listener: PostgresListener, waiter: Waiter, postgres_engine: Engine
) -> None:
    with postgres_engine.connect() as connection:
        connection.execute(text("SELECT pg_notify('taskspool_tasks', '')"))
        connection.rollback()
    PostgresTaskRepository(postgres_engine).add(new_task())  # a marker that does arrive

    assert waiter.wait_for(1)
    assert waiter.wakes == 1


def test_the_listener_reconnects_after_its_connection_is_terminated(
    listener: PostgresListener, waiter: Waiter, postgres_engine: Engine
) -> None:
    with postgres_engine.begin() as connection:
        terminated = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
            )
        ).scalar_one()
    assert terminated == 1

    # Once back, it wakes its worker, since tasks may have come in meanwhile...
    assert waiter.wait_for(1)
    # ...and it hears new enqueues again.
    PostgresTaskRepository(postgres_engine).add(new_task())
    assert waiter.wait_for(2)


def test_stop_closes_the_listening_connection(
    postgres_url: str, waiter: Waiter, postgres_engine: Engine
) -> None:
    listener = PostgresListener(postgres_url, on_notify=waiter.wake)
    listener.start()

    listener.stop()

    assert not listener.listening
    assert _eventually(lambda: _listening_backends(postgres_engine) == 0)


def _listening_backends(engine: Engine) -> int:
    with engine.connect() as connection:
        count: int = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
            )
        ).scalar_one()
    return count


def _eventually(condition: Callable[[], bool]) -> bool:
    """True once `condition` holds; the server ends a closed session's backend shortly after."""
    deadline = time.monotonic() + WAKE_WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
