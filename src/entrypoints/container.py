"""The composition root: settings -> storage -> use cases -> entrypoints.

Providers are lazy: building a `Container` reads nothing and connects to nothing;
the first call of a provider builds what it needs. Tests replace providers with
`container.<provider>.override(...)`.
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING
from uuid import uuid4

from dependency_injector import containers, providers

from adapters.clock import SystemClock
from adapters.files import LocalFileStore
from adapters.keepalive import ThreadKeepalive
from adapters.memory import InMemoryTaskRepository
from adapters.signal import EventSignal
from adapters.sql.engine import make_engine
from adapters.sql.notify import PostgresListener
from adapters.sql.postgres import PostgresTaskRepository
from adapters.sql.sqlite import SqliteTaskRepository
from application.handlers.csv_generation import TASK_TYPE as CSV_GENERATION
from application.handlers.csv_generation import CsvGenerationHandler
from application.processor import Processor
from application.tasks import TaskService
from domain.backoff import BackoffPolicy
from domain.lease import LeasePolicy
from entrypoints.secret import signing_secret
from entrypoints.settings import Settings
from entrypoints.worker import Worker

if TYPE_CHECKING:
    from application.files import FileStore
    from application.ports import Clock, Handler, Keepalive, QueueSignal, TaskRepository
    from entrypoints.worker import Wakeup

    # mypy proves here that each adapter fits its port; nothing subclasses a Protocol.
    _memory: type[TaskRepository] = InMemoryTaskRepository
    _sqlite: type[TaskRepository] = SqliteTaskRepository
    _postgres: type[TaskRepository] = PostgresTaskRepository
    _clock: type[Clock] = SystemClock
    _signal: type[QueueSignal] = EventSignal
    _wakeup: type[Wakeup] = EventSignal
    _files: type[FileStore] = LocalFileStore
    _keepalive: type[Keepalive] = ThreadKeepalive
    _csv: type[Handler] = CsvGenerationHandler


def new_worker_id() -> str:
    """A name for this worker process that is unique across hosts and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"


class Container(containers.DeclarativeContainer):
    """Everything taskspool is made of, wired once."""

    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    #: Wakes the in-process worker on enqueue, on a NOTIFY, and when a slot frees up.
    signal = providers.Singleton(EventSignal)
    secret = providers.Singleton(signing_secret, settings)

    engine = providers.Singleton(make_engine, settings.provided.database_url)
    # Singletons, not Resources, under the Selector: only the selected branch is built.
    repository = providers.Selector(
        settings.provided.storage,
        memory=providers.Singleton(InMemoryTaskRepository),
        sqlite=providers.Singleton(SqliteTaskRepository, engine),
        postgres=providers.Singleton(PostgresTaskRepository, engine),
    )
    #: PostgreSQL only: turns each enqueue's NOTIFY into a wake-up of this process's worker.
    listener = providers.Singleton(
        PostgresListener, settings.provided.database_url, on_notify=signal.provided.notify
    )

    files = providers.Singleton(LocalFileStore, root=settings.provided.csv_output_dir)
    handlers = providers.Dict(
        {CSV_GENERATION: providers.Singleton(CsvGenerationHandler, files=files)}
    )

    backoff = providers.Singleton(
        BackoffPolicy, base=settings.provided.backoff_base, cap=settings.provided.backoff_cap
    )
    lease = providers.Singleton(LeasePolicy, stale_after=settings.provided.stale_after)
    keepalive = providers.Singleton(ThreadKeepalive, interval=lease.provided.heartbeat_every.call())
    worker_id = providers.Singleton(new_worker_id)

    task_service = providers.Factory(TaskService, repository=repository, clock=clock, signal=signal)
    processor = providers.Factory(
        Processor,
        repository=repository,
        clock=clock,
        handlers=handlers,
        worker_id=worker_id,
        backoff=backoff,
        lease=lease,
        keepalive=keepalive,
    )
    worker = providers.Factory(
        Worker,
        processor=processor,
        wakeup=signal,
        concurrency=settings.provided.concurrency,
        batch_size=settings.provided.batch_size,
        poll_interval=settings.provided.poll_interval,
        recover_every=lease.provided.heartbeat_every.call(),
        shutdown_grace=settings.provided.shutdown_grace,
    )


def build_container(settings: Settings) -> Container:
    """A container for `settings`; builds nothing until a provider is called."""
    container = Container()
    container.settings.override(settings)
    return container
