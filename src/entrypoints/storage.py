"""Getting the store ready before a command uses it: data directory, schema, notifications."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from adapters.sql.migrate import current_revision, head_revision, is_up_to_date, upgrade
from adapters.sql.notify import PostgresListener
from adapters.sql.sqlite_watch import SqliteChangeWatcher
from entrypoints.container import Container
from entrypoints.settings import Settings, StorageKind, default_database_url

log = logging.getLogger(__name__)


class StorageNotReady(Exception):
    """The store cannot be used as it is; the message says what to do."""


def prepare_storage(container: Container, *, migrate: bool = False) -> None:
    """Create the data directory; for SQL stores, check (or bring up) the schema.

    With `migrate` or TASKSPOOL_AUTO_MIGRATE on, an out-of-date schema is migrated;
    otherwise StorageNotReady says to run `taskspool migrate`.
    """
    settings = container.settings()
    usable_directory(settings.data_dir, variable="TASKSPOOL_DATA_DIR")
    if settings.storage is StorageKind.MEMORY:
        return
    if settings.storage is StorageKind.SQLITE:
        _usable_sqlite_file(settings)
    engine = container.engine()
    if is_up_to_date(engine):
        return
    current = current_revision(engine)
    if not (migrate or settings.auto_migrate):
        raise StorageNotReady(
            f"the database schema is at {current or 'no revision'} but this taskspool needs "
            f"{head_revision()}: run `taskspool migrate` (or set TASKSPOOL_AUTO_MIGRATE=1)"
        )
    upgrade(engine)
    log.info("database schema migrated from %s to %s", current or "nothing", head_revision())


def prepare_outputs(container: Container) -> None:
    """Check that the directories a worker writes into can be created and written, so that
    `serve` and `worker` stop at once instead of failing every export later. Call it
    before prepare_storage, so that nothing is migrated for a process that cannot run."""
    settings = container.settings()
    # The outputs live in the data directory by default: name the root cause first.
    usable_directory(settings.data_dir, variable="TASKSPOOL_DATA_DIR")
    usable_directory(settings.csv_output_dir, variable="CSV_OUTPUT_DIR")
    if settings.smtp_url is None:
        usable_directory(settings.outbox_dir, variable="MAIL_OUTBOX_DIR")


def usable_directory(path: Path, *, variable: str) -> None:
    """Create `path` if needed and prove a file can be written in it; otherwise
    StorageNotReady naming `variable`, the path and the reason."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageNotReady(
            f"{variable}: cannot create the directory {str(path)!r}: {_reason(exc)}"
        ) from None
    try:
        with tempfile.TemporaryFile(dir=path, prefix=".taskspool-probe-"):
            pass
    except OSError as exc:
        raise StorageNotReady(
            f"{variable}: cannot write in the directory {str(path)!r}: {_reason(exc)}"
        ) from None


def _usable_sqlite_file(settings: Settings) -> None:
    """SQLite says only "unable to open database file"; say which file, which setting, why."""
    explicit = settings.database_url != default_database_url(settings.data_dir)
    variable = "DATABASE_URL" if explicit else "TASKSPOOL_DATA_DIR"
    database = make_url(settings.database_url).database
    if not database or database == ":memory:":
        return
    path = Path(database)
    usable_directory(path.parent, variable=variable)
    if path.exists() and (not path.is_file() or not _writable(path)):
        raise StorageNotReady(
            f"{variable}: the SQLite database {str(path)!r} is not a file this process can write"
        )


def _writable(path: Path) -> bool:
    try:
        with path.open("r+b"):
            return True
    except OSError:
        return False


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


@contextmanager
def notifications(container: Container) -> Iterator[None]:
    """While the block runs, work stored by other processes wakes this process's worker:
    a PostgreSQL NOTIFY, or a commit to the SQLite file."""
    storage = container.settings().storage
    if storage is StorageKind.POSTGRES:
        waker: PostgresListener | SqliteChangeWatcher = container.listener()
    elif storage is StorageKind.SQLITE:
        waker = container.sqlite_watcher()
    else:
        yield
        return
    waker.start()
    try:
        yield
    finally:
        waker.stop()
