"""One repository contract, three stores: every test here runs on each of them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine

from adapters.memory import InMemoryTaskRepository
from adapters.sql.engine import make_engine
from adapters.sql.postgres import PostgresTaskRepository
from adapters.sql.sqlite import SqliteTaskRepository
from application.ports import TaskRepository

#: Opens another handle on the same store (its own engine and connections, for SQL).
RepositoryFactory = Callable[[], TaskRepository]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def open_repository(request: pytest.FixtureRequest) -> Iterator[RepositoryFactory]:
    engines: list[Engine] = []
    if request.param == "memory":
        shared = InMemoryTaskRepository()

        def open_memory() -> TaskRepository:
            return shared

        yield open_memory
        return
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_url")
        kind: type[SqliteTaskRepository | PostgresTaskRepository] = SqliteTaskRepository
    else:
        url = request.getfixturevalue("postgres_url")
        kind = PostgresTaskRepository

    def open_sql() -> TaskRepository:
        engine = make_engine(url)
        engines.append(engine)
        return kind(engine)

    yield open_sql
    for engine in engines:
        engine.dispose()


@pytest.fixture
def repository(open_repository: RepositoryFactory) -> TaskRepository:
    return open_repository()
