"""Engines from DATABASE_URL values: what is accepted, what is refused, how SQLite is set up."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from adapters.sql.engine import make_engine


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://user:secret@db.example:5432/taskspool",
        "postgresql+psycopg://user:secret@db.example:5432/taskspool",
    ],
)
def test_postgresql_urls_mean_psycopg_3(url: str) -> None:
    engine = make_engine(url)  # no connection is made until first use

    assert engine.url.drivername == "postgresql+psycopg"
    assert engine.url.database == "taskspool"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url", "not a database URL"),
        ("mysql://user@host/db", "unsupported database URL"),
        ("postgresql+asyncpg://user@host/db", "unsupported database URL"),
        ("sqlite://", "needs a file path"),
        ("sqlite:///:memory:", "needs a file path"),
    ],
)
def test_a_bad_url_is_refused_with_a_readable_message(url: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        make_engine(url)


def test_a_refused_url_does_not_echo_its_password() -> None:
    with pytest.raises(ValueError, match="unsupported") as refused:
        make_engine("mysql://user:hunter2@host/db")

    assert "hunter2" not in str(refused.value)


def test_a_sqlite_file_gets_its_directory_created(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "deeper" / "taskspool.db"

    engine = make_engine(f"sqlite:///{path}")
    with engine.connect():
        pass
    engine.dispose()

    assert path.exists()


def test_sqlite_connections_use_wal_a_busy_timeout_and_foreign_keys(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as connection:
        pragmas = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
        }

    assert pragmas == {
        "journal_mode": "wal",
        "busy_timeout": 30_000,
        "foreign_keys": 1,
        "synchronous": 1,
    }
