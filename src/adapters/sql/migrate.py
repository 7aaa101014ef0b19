"""Schema migrations, applied from the installed package: no alembic.ini needed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from adapters.sql.engine import writer

_SCRIPTS = Path(__file__).resolve().parent / "migrations"
#: Serialises concurrent `upgrade` calls on PostgreSQL (SQLite's write lock does it there).
_ADVISORY_LOCK_KEY = 0x7461736B73  # "tasks"


def upgrade(engine: Engine) -> None:
    """Bring the schema behind `engine` to the newest revision; safe to run concurrently."""
    with writer(engine).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY}
            )
        config = _config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty database."""
    with engine.connect() as connection:
        return _current(connection)


def head_revision() -> str:
    """The newest revision this package knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {_SCRIPTS}")
    return head


def is_up_to_date(engine: Engine) -> bool:
    """True if the database is at the newest revision."""
    return current_revision(engine) == head_revision()


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config
