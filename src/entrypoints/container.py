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
from adapters.feed_file import FileJobSource
from adapters.feed_http import HttpJobSource
from adapters.files import LocalFileStore
from adapters.ids import TimeOrderedIds
from adapters.keepalive import ThreadKeepalive
from adapters.memory import InMemoryTaskRepository
from adapters.memory_postings import InMemoryDeliveryLog, InMemoryPostingStore
from adapters.outbox import OutboxSender
from adapters.signal import EventSignal
from adapters.smtp import SmtpConfig, SmtpSender
from adapters.sql.deliveries import SqlDeliveryLog
from adapters.sql.engine import make_engine
from adapters.sql.notify import PostgresListener
from adapters.sql.postgres import PostgresTaskRepository
from adapters.sql.postings import SqlPostingStore
from adapters.sql.sqlite import SqliteTaskRepository
from adapters.sql.sqlite_watch import SqliteChangeWatcher
from application.handlers.csv_generation import TASK_TYPE as CSV_GENERATION
from application.handlers.csv_generation import CsvGenerationHandler
from application.handlers.email_delivery import TASK_TYPE as EMAIL_DELIVERY
from application.handlers.email_delivery import EmailDeliveryHandler
from application.handlers.job_fetch import TASK_TYPE as JOB_FETCH
from application.handlers.job_fetch import JobFetchHandler
from application.handlers.matching import TASK_TYPE as MATCHING
from application.handlers.matching import MatchingHandler
from application.handlers.notify import Notifier
from application.jobs import JobSource
from application.mail import EmailSender
from application.processor import Processor
from application.tasks import TaskService
from domain.backoff import BackoffPolicy
from domain.lease import LeasePolicy
from entrypoints.secret import signing_secret
from entrypoints.settings import Settings
from entrypoints.worker import Worker

if TYPE_CHECKING:
    from application.files import FileStore
    from application.jobs import PostingStore
    from application.mail import DeliveryLog
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
    _job_fetch: type[Handler] = JobFetchHandler
    _matching: type[Handler] = MatchingHandler
    _email: type[Handler] = EmailDeliveryHandler
    _memory_postings: type[PostingStore] = InMemoryPostingStore
    _sql_postings: type[PostingStore] = SqlPostingStore
    _memory_deliveries: type[DeliveryLog] = InMemoryDeliveryLog
    _sql_deliveries: type[DeliveryLog] = SqlDeliveryLog
    _http_feed: type[JobSource] = HttpJobSource
    _file_feed: type[JobSource] = FileJobSource
    _smtp: type[EmailSender] = SmtpSender
    _outbox: type[EmailSender] = OutboxSender


def job_source_for(settings: Settings) -> JobSource:
    """The HTTP feeds JOB_FEED_URL / JOB_FEED_SOURCES name, else the shipped sample feed."""
    feeds = settings.job_feeds
    if feeds:
        return HttpJobSource(feeds=feeds, timeout=settings.job_feed_timeout)
    return FileJobSource()


def mailer_for(settings: Settings) -> EmailSender:
    """SMTP when SMTP_URL is set, else the outbox directory."""
    if settings.smtp_url:
        return SmtpSender(
            config=SmtpConfig.from_url(settings.smtp_url), ca_file=settings.smtp_ca_file
        )
    return OutboxSender(directory=settings.outbox_dir)


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
    #: SQLite only: wakes this process's worker when another process commits to the file.
    sqlite_watcher = providers.Singleton(
        SqliteChangeWatcher, engine, on_change=signal.provided.notify
    )

    files = providers.Singleton(LocalFileStore, root=settings.provided.csv_output_dir)
    postings = providers.Selector(
        settings.provided.storage,
        memory=providers.Singleton(InMemoryPostingStore),
        sqlite=providers.Singleton(SqlPostingStore, engine=engine),
        postgres=providers.Singleton(SqlPostingStore, engine=engine),
    )
    deliveries = providers.Selector(
        settings.provided.storage,
        memory=providers.Singleton(InMemoryDeliveryLog),
        sqlite=providers.Singleton(SqlDeliveryLog, engine=engine),
        postgres=providers.Singleton(SqlDeliveryLog, engine=engine),
    )
    job_source = providers.Singleton(job_source_for, settings)
    mailer = providers.Singleton(mailer_for, settings)

    backoff = providers.Singleton(
        BackoffPolicy, base=settings.provided.backoff_base, cap=settings.provided.backoff_cap
    )
    lease = providers.Singleton(LeasePolicy, stale_after=settings.provided.stale_after)
    keepalive = providers.Singleton(ThreadKeepalive, interval=lease.provided.heartbeat_every.call())
    worker_id = providers.Singleton(new_worker_id)

    #: Ids in creation order keep the primary-key index writes of a batch together.
    new_id = providers.Singleton(TimeOrderedIds, clock=clock)
    task_service = providers.Factory(
        TaskService, repository=repository, clock=clock, signal=signal, new_id=new_id
    )
    notifier = providers.Singleton(Notifier, tasks=task_service)
    handlers = providers.Dict(
        {
            JOB_FETCH: providers.Singleton(
                JobFetchHandler, source=job_source, store=postings, clock=clock
            ),
            MATCHING: providers.Singleton(MatchingHandler, store=postings, notifier=notifier),
            CSV_GENERATION: providers.Singleton(
                CsvGenerationHandler,
                files=files,
                postings=postings,
                tasks=task_service,
                notifier=notifier,
            ),
            EMAIL_DELIVERY: providers.Singleton(
                EmailDeliveryHandler,
                sender=mailer,
                deliveries=deliveries,
                files=files,
                clock=clock,
                mail_from=settings.provided.mail_from,
            ),
        }
    )
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
