"""Getting the store ready before a command uses it: data directory, schema, notifications."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from adapters.sql.migrate import current_revision, head_revision, is_up_to_date, upgrade
from entrypoints.container import Container
from entrypoints.settings import StorageKind

log = logging.getLogger(__name__)


class StorageNotReady(Exception):
    """The store cannot be used as it is; the message says what to do."""


def prepare_storage(container: Container, *, migrate: bool = False) -> None:
    """Create the data directory; for SQL stores, check (or bring up) the schema.

    With `migrate` or TASKSPOOL_AUTO_MIGRATE on, an out-of-date schema is migrated;
    otherwise StorageNotReady says to run `taskspool migrate`.
    """
    settings = container.settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.storage is StorageKind.MEMORY:
        return
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


@contextmanager
def notifications(container: Container) -> Iterator[None]:
    """While the block runs, a PostgreSQL NOTIFY on enqueue wakes this process's worker."""
    if container.settings().storage is not StorageKind.POSTGRES:
        yield
        return
    listener = container.listener()
    listener.start()
    try:
        yield
    finally:
        listener.stop()
