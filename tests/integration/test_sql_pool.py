"""The PostgreSQL pool: sessions in UTC, idle connections pinged, hot-path errors as SQLAlchemy's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import uuid4

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from adapters.sql import engine as engine_module
from adapters.sql.engine import make_engine
from adapters.sql.postgres import PostgresTaskRepository
from domain.task import Task

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _task() -> Task:
    return Task.create(id=uuid4(), type="noop", owner="alice", payload={}, now=NOW)


def _kill_pooled_connection(engine: Engine, postgres_url: str) -> None:
    with engine.connect() as connection:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_sessions_run_in_utc_so_times_come_back_as_utc(pg_engine: Engine) -> None:
    with pg_engine.connect() as connection:
        zone = connection.exec_driver_sql("SHOW TimeZone").scalar_one()
        stamp = connection.execute(text("SELECT now()")).scalar_one()

    assert zone == "UTC"
    assert stamp.tzinfo is UTC


def test_a_connection_killed_while_idle_is_replaced_before_use(
    pg_engine: Engine, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 0.0)
    repository = PostgresTaskRepository(pg_engine)
    _kill_pooled_connection(pg_engine, postgres_url)
    task = _task()

    repository.add(task)

    assert repository.get(task.id) == task


def test_a_recently_used_connection_is_not_pinged(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings: list[object] = []
    monkeypatch.setattr(pg_engine.dialect, "do_ping", pings.append)
    repository = PostgresTaskRepository(pg_engine)

    repository.add(_task())
    repository.claim(now=NOW, worker_id="w", limit=1)

    assert pings == []


def test_a_hot_path_failure_is_an_sqlalchemy_error_and_the_pool_recovers(
    pg_engine: Engine, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pinging off: the dead connection reaches the claim itself.
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", float("inf"))
    repository = PostgresTaskRepository(pg_engine)
    repository.add(_task())
    _kill_pooled_connection(pg_engine, postgres_url)

    with pytest.raises(OperationalError):
        repository.claim(now=NOW, worker_id="w", limit=1)

    assert len(repository.claim(now=NOW, worker_id="w", limit=1)) == 1


def test_a_duplicate_task_id_stores_nothing(pg_engine: Engine) -> None:
    repository = PostgresTaskRepository(pg_engine)
    first, fresh = _task(), _task()
    repository.add(first)

    with pytest.raises(ValueError, match="already exists"):
        repository.add_many([fresh, first])

    assert repository.get(fresh.id) is None
    assert len(repository.claim(now=NOW, worker_id="w", limit=10)) == 1


def test_a_claim_leaves_its_connection_durable_for_the_next_write(pg_engine: Engine) -> None:
    # The claim skips its own WAL flush; the settle that follows on the same pooled
    # connection (the pool holds one) must still wait for its flush. The test cluster
    # runs with synchronous_commit off, so the session asks for it first.
    with pg_engine.connect() as connection:
        connection.exec_driver_sql("SET synchronous_commit TO on")
        connection.commit()
    repository = PostgresTaskRepository(pg_engine)
    repository.add(_task())
    assert len(repository.claim(now=NOW, worker_id="w", limit=1)) == 1

    with pg_engine.connect() as connection:
        setting = connection.exec_driver_sql("SHOW synchronous_commit").scalar_one()

    assert setting == "on"


def test_the_hot_path_hands_its_connection_back_out_of_autocommit(pg_engine: Engine) -> None:
    repository = PostgresTaskRepository(pg_engine)
    repository.add(_task())
    (claimed,) = repository.claim(now=NOW, worker_id="w", limit=1)
    repository.replace_many([(claimed.complete(now=NOW, result={}), claimed.version)])

    pooled = pg_engine.raw_connection()
    try:
        # driver_connection is Optional in SQLAlchemy's types; a checked-out one is set.
        assert pooled.driver_connection.autocommit is False  # type: ignore[union-attr]
    finally:
        pooled.close()
