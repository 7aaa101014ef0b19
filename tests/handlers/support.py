"""The four handlers wired over in-memory stores, and posting builders, for handler tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from adapters.files import LocalFileStore
from adapters.memory import InMemoryTaskRepository
from adapters.memory_postings import InMemoryDeliveryLog, InMemoryPostingStore
from adapters.signal import NullSignal
from application.actor import Actor
from application.handlers.csv_generation import CsvGenerationHandler
from application.handlers.email_delivery import EmailDeliveryHandler
from application.handlers.job_fetch import JobFetchHandler
from application.handlers.matching import MatchingHandler
from application.handlers.notify import Notifier
from application.jobs import JobSource
from application.ports import Handler
from application.processor import Processor
from application.tasks import TaskService
from domain.postings import JobPosting
from domain.task import Task
from tests.fakes import FakeClock, FakeMailer

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MAIL_FROM = "taskspool@example.org"


def posting(external_id: str, title: str, **fields: Any) -> JobPosting:
    fields.setdefault("source", "test")
    fields.setdefault("fetched_at", START)
    return JobPosting(external_id=external_id, title=title, **fields)


class Queue:
    """The four handlers over in-memory stores, run one task at a time by a processor."""

    def __init__(self, *, tmp: Path, source: JobSource) -> None:
        self.clock = FakeClock(START)
        self.repository = InMemoryTaskRepository()
        self.tasks = TaskService(repository=self.repository, clock=self.clock, signal=NullSignal())
        self.postings = InMemoryPostingStore()
        self.deliveries = InMemoryDeliveryLog()
        self.files = LocalFileStore(root=tmp / "csv")
        self.mailer = FakeMailer()
        notifier = Notifier(tasks=self.tasks)
        self.handlers: dict[str, Handler] = {
            "job_fetch": JobFetchHandler(source=source, store=self.postings, clock=self.clock),
            "matching": MatchingHandler(store=self.postings, notifier=notifier),
            "csv_generation": CsvGenerationHandler(
                files=self.files, postings=self.postings, tasks=self.tasks, notifier=notifier
            ),
            "email_delivery": EmailDeliveryHandler(
                sender=self.mailer,
                deliveries=self.deliveries,
                files=self.files,
                clock=self.clock,
                mail_from=MAIL_FROM,
            ),
        }
        self.processor = Processor(
            repository=self.repository,
            clock=self.clock,
            handlers=self.handlers,
            worker_id="test-worker",
        )

    def enqueue(self, type: str, payload: dict[str, Any], *, owner: str = "ada") -> Task:
        return self.tasks.enqueue(actor=Actor(name=owner), type=type, payload=payload)

    def run(self, task: Task) -> Task:
        """Claim and run every due task (`task` among them); return `task`'s stored state."""
        while self.processor.run_once(limit=10):
            pass
        stored = self.repository.get(task.id)
        assert stored is not None
        return stored

    def get(self, task_id: UUID | str) -> Task:
        stored = self.repository.get(UUID(str(task_id)))
        assert stored is not None
        return stored
