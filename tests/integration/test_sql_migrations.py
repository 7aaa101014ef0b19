"""Schema migrations: one Alembic history that builds the same schema on both databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

import adapters.sql
from adapters.sql.engine import make_engine
from adapters.sql.migrate import current_revision, head_revision, is_up_to_date, upgrade
from adapters.sql.tables import metadata


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('migrate') / 'empty.db'}"
    else:
        url = request.getfixturevalue("empty_postgres_url")
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_an_empty_database_is_not_up_to_date(empty_engine: Engine) -> None:
    assert current_revision(empty_engine) is None
    assert not is_up_to_date(empty_engine)


def test_upgrade_brings_an_empty_database_to_the_head(empty_engine: Engine) -> None:
    upgrade(empty_engine)

    assert current_revision(empty_engine) == head_revision()
    assert is_up_to_date(empty_engine)
    assert "tasks" in inspect(empty_engine).get_table_names()


def test_upgrading_an_up_to_date_database_changes_nothing(empty_engine: Engine) -> None:
    upgrade(empty_engine)

    upgrade(empty_engine)

    assert is_up_to_date(empty_engine)


def test_concurrent_upgrades_of_one_database_both_succeed(empty_engine: Engine) -> None:
    # `serve` and `worker` may start together, each migrating.
    errors: list[BaseException] = []

    def migrate() -> None:
        try:
            upgrade(empty_engine)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=migrate) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert is_up_to_date(empty_engine)


def test_the_migrations_build_exactly_the_tables_the_code_uses(empty_engine: Engine) -> None:
    upgrade(empty_engine)

    with empty_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)

    assert differences == []


def test_the_history_starts_at_the_tasks_revision() -> None:
    # Later revisions build on this id (0002_postings revises 0001_tasks).
    scripts = ScriptDirectory(str(Path(adapters.sql.__file__).parent / "migrations"))

    assert scripts.get_base() == "0001_tasks"
