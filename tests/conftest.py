"""Shared fixtures: real databases, fresh and migrated for each test that asks.

PostgreSQL comes from `tests.support.pgcluster`: one throwaway cluster per session
(or the server TEST_DATABASE_URL names) and one database migrated once, emptied
before each test that asks for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from adapters.sql.engine import make_engine
from adapters.sql.migrate import upgrade
from adapters.sql.tables import metadata
from tests.support.pgcluster import PostgresCluster, PostgresUnavailable


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresCluster]:
    """A running PostgreSQL server for the whole session; never skipped."""
    try:
        cluster = PostgresCluster.from_environment()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def migrated(url: str) -> str:
    """`url`, after bringing its database to the newest schema."""
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def _migrated_postgres_url(postgres_server: PostgresCluster) -> str:
    return migrated(postgres_server.url(postgres_server.create_database()))


@pytest.fixture
def empty_postgres_url(postgres_server: PostgresCluster) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database (no tables), dropped afterwards."""
    name = postgres_server.create_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


@pytest.fixture
def postgres_url(_migrated_postgres_url: str) -> str:
    """The URL of a PostgreSQL database at the newest schema, with every table empty.

    One database serves the session; emptying it (TRUNCATE) takes milliseconds where
    creating a database takes most of a second.
    """
    engine = make_engine(_migrated_postgres_url, pool_size=1)
    try:
        names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
        with engine.begin() as connection:
            # A connection leaked by an earlier test would block TRUNCATE: fail, don't hang.
            connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
            connection.exec_driver_sql(f"TRUNCATE {names}")
    finally:
        engine.dispose()
    return _migrated_postgres_url


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """The URL of a new SQLite file at the newest schema."""
    return migrated(f"sqlite:///{tmp_path / 'taskspool.db'}")


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()
