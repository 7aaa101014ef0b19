"""TaskService: what enqueue accepts, how listing is scoped and paged, cancel and retry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from adapters.memory import InMemoryTaskRepository
from adapters.signal import EventSignal
from application.actor import Actor
from application.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    PayloadTooLarge,
    TaskNotFound,
)
from application.payloads import MAX_DEPTH, MAX_PAYLOAD_BYTES
from application.ports import TaskQuery
from application.tasks import (
    MAX_ATTEMPTS,
    MAX_PAGE,
    MAX_PAGE_LIMIT,
    MAX_PRIORITY,
    MAX_TYPE_CHARS,
    MIN_PRIORITY,
    TaskService,
)
from domain.backoff import BackoffPolicy
from domain.task import Task, TaskStatus
from tests.fakes import FakeClock

ADA = Actor(name="ada")
BOB = Actor(name="bob")
ADMIN = Actor(name="root", is_admin=True)


class Desk:
    """A service over an in-memory store, with a clock and a wake-up signal to inspect."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.signal = EventSignal()
        self.repository = InMemoryTaskRepository()
        self.service = TaskService(repository=self.repository, clock=self.clock, signal=self.signal)

    def enqueue(self, actor: Actor = ADA, type: str = "echo", **fields: Any) -> Task:
        task = self.service.enqueue(actor=actor, type=type, payload={"n": 1}, **fields)
        self.clock.advance(timedelta(seconds=1))  # distinct creation times: a defined order
        return task

    def stored(self, task_id: UUID) -> Task:
        task = self.repository.get(task_id)
        assert task is not None
        return task

    def settle(self, task: Task, *, fail: bool) -> Task:
        """Run `task` to `failed` or `completed` directly through the domain."""
        [claimed] = self.repository.claim(now=self.clock.now(), worker_id="w1", limit=1)
        assert claimed.id == task.id
        now = self.clock.now()
        if fail:
            settled = claimed.fail(now=now, message="x", backoff=BackoffPolicy(), retryable=False)
        else:
            settled = claimed.complete(now=now, result={})
        assert self.repository.replace(settled, expected_version=claimed.version)
        return settled


@pytest.fixture
def desk() -> Desk:
    return Desk()


def test_enqueue_stores_a_pending_task_owned_by_the_caller(desk: Desk) -> None:
    task = desk.service.enqueue(actor=ADA, type="csv_generation", payload={"rows": []})
    assert desk.stored(task.id) == task
    assert (task.status, task.owner, task.attempts) == (TaskStatus.PENDING, "ada", 0)
    assert task.created_at == task.run_at == desk.clock.now()


def test_enqueue_wakes_a_waiting_worker(desk: Desk) -> None:
    desk.enqueue()
    assert desk.signal.wait(0)


@pytest.mark.parametrize(
    "type",
    ["", "x" * (MAX_TYPE_CHARS + 1), "has space", "dash-ed", "dotted.name", "café", "___", "a\x00"],
    ids=repr,
)
def test_enqueue_refuses_a_bad_type(desk: Desk, type: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        desk.service.enqueue(actor=ADA, type=type, payload={})
    assert refused.value.field == "type"
    assert desk.repository.list(TaskQuery()).total == 0


def test_enqueue_accepts_a_type_of_the_longest_length(desk: Desk) -> None:
    assert desk.service.enqueue(actor=ADA, type="t" * MAX_TYPE_CHARS, payload={})


@pytest.mark.parametrize(
    "payload",
    [{"a": "x\x00y"}, {"k\x00": 1}, {"list": [{"deep": "\x00"}]}],
    ids=["value", "key", "nested"],
)
def test_enqueue_refuses_nul_in_the_payload(desk: Desk, payload: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest, match="NUL") as refused:
        desk.service.enqueue(actor=ADA, type="echo", payload=payload)
    assert refused.value.field == "payload"


def test_enqueue_refuses_an_unpaired_surrogate_in_the_payload(desk: Desk) -> None:
    with pytest.raises(InvalidRequest, match="surrogate"):
        desk.service.enqueue(actor=ADA, type="echo", payload={"a": "\udcff"})


def nested(depth: int) -> dict[str, Any]:
    """A payload whose values nest `depth` levels below the top object."""
    document: dict[str, Any] = {}
    for _ in range(depth):
        document = {"a": document}
    return document


def test_enqueue_refuses_a_payload_nested_too_deep(desk: Desk) -> None:
    with pytest.raises(InvalidRequest, match="nested deeper than"):
        desk.service.enqueue(actor=ADA, type="echo", payload=nested(MAX_DEPTH + 1))


def test_enqueue_accepts_a_payload_nested_to_the_limit(desk: Desk) -> None:
    desk.service.enqueue(actor=ADA, type="echo", payload=nested(MAX_DEPTH))


def test_enqueue_refuses_a_self_referencing_payload(desk: Desk) -> None:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    with pytest.raises(InvalidRequest):
        desk.service.enqueue(actor=ADA, type="echo", payload=loop)


def test_enqueue_refuses_an_oversize_payload(desk: Desk) -> None:
    with pytest.raises(PayloadTooLarge, match=f"the limit is {MAX_PAYLOAD_BYTES}"):
        desk.service.enqueue(actor=ADA, type="echo", payload={"blob": "a" * MAX_PAYLOAD_BYTES})


def test_payload_size_counts_utf8_bytes_not_characters(desk: Desk) -> None:
    # 'é' is two bytes: half the limit in characters is the whole limit in bytes.
    with pytest.raises(PayloadTooLarge):
        desk.service.enqueue(actor=ADA, type="echo", payload={"t": "é" * (MAX_PAYLOAD_BYTES // 2)})


@pytest.mark.parametrize("payload", [[1, 2], "text", None], ids=repr)
def test_enqueue_refuses_a_payload_that_is_not_an_object(desk: Desk, payload: Any) -> None:
    with pytest.raises(InvalidRequest, match="payload must be a JSON object"):
        desk.service.enqueue(actor=ADA, type="echo", payload=payload)


@pytest.mark.parametrize("payload", [{"n": float("nan")}, {"s": {1, 2}}, {1: "int key"}], ids=repr)
def test_enqueue_refuses_a_payload_that_is_not_json(desk: Desk, payload: Any) -> None:
    with pytest.raises(InvalidRequest):
        desk.service.enqueue(actor=ADA, type="echo", payload=payload)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"max_attempts": MAX_ATTEMPTS + 1}, "maxAttempts"),
        ({"priority": MAX_PRIORITY + 1}, "priority"),
        ({"priority": MIN_PRIORITY - 1}, "priority"),
    ],
    ids=["attempts", "priority-high", "priority-low"],
)
def test_enqueue_refuses_numbers_beyond_what_every_store_holds(
    desk: Desk, options: dict[str, int], field: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        desk.service.enqueue(actor=ADA, type="echo", payload={}, **options)
    assert refused.value.field == field


def test_enqueue_refuses_fewer_than_one_attempt(desk: Desk) -> None:
    with pytest.raises(InvalidRequest) as refused:
        desk.service.enqueue(actor=ADA, type="echo", payload={}, max_attempts=0)
    assert refused.value.field == "maxAttempts"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (TaskQuery(page=0), "page"),
        (TaskQuery(page=-3), "page"),
        (TaskQuery(page=MAX_PAGE + 1), "page"),
        (TaskQuery(page=922_337_203_685_477_580), "page"),
        (TaskQuery(limit=0), "limit"),
        (TaskQuery(limit=MAX_PAGE_LIMIT + 1), "limit"),
        (TaskQuery(limit=10_000), "limit"),
    ],
    ids=[
        "page0",
        "page-3",
        "page-over-max",
        "page-overflowing-int64",
        "limit0",
        "limit101",
        "limit10000",
    ],
)
def test_list_refuses_a_bad_page_or_limit_naming_it(
    desk: Desk, query: TaskQuery, field: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        desk.service.list(actor=ADA, query=query)
    assert refused.value.field == field


@pytest.mark.parametrize("limit", [1, MAX_PAGE_LIMIT])
def test_list_accepts_the_limits_at_both_ends(desk: Desk, limit: int) -> None:
    assert desk.service.list(actor=ADA, query=TaskQuery(limit=limit)).total == 0


def test_user_lists_only_their_own_tasks(desk: Desk) -> None:
    mine = desk.enqueue(ADA)
    desk.enqueue(BOB)
    page = desk.service.list(actor=ADA, query=TaskQuery())
    assert [t.id for t in page.items] == [mine.id]
    assert page.total == 1


def test_a_user_filtering_by_another_owner_is_forbidden(desk: Desk) -> None:
    desk.enqueue(BOB)
    with pytest.raises(Forbidden, match="only admins may filter by owner"):
        desk.service.list(actor=ADA, query=TaskQuery(owner="bob"))


def test_a_user_may_name_themselves_as_owner(desk: Desk) -> None:
    mine = desk.enqueue(ADA)
    desk.enqueue(BOB)
    page = desk.service.list(actor=ADA, query=TaskQuery(owner="ada"))
    assert [t.id for t in page.items] == [mine.id]


def test_admin_lists_every_task(desk: Desk) -> None:
    desk.enqueue(ADA)
    desk.enqueue(BOB)
    assert desk.service.list(actor=ADMIN, query=TaskQuery()).total == 2


def test_admin_may_list_one_owners_tasks(desk: Desk) -> None:
    desk.enqueue(ADA)
    bobs = desk.enqueue(BOB)
    page = desk.service.list(actor=ADMIN, query=TaskQuery(owner="bob"))
    assert [t.id for t in page.items] == [bobs.id]


def test_list_filters_by_type_and_status(desk: Desk) -> None:
    wanted = desk.enqueue(type="csv_generation")
    desk.enqueue(type="echo")
    cancelled = desk.enqueue(type="csv_generation")
    desk.service.cancel(actor=ADA, task_id=cancelled.id)
    page = desk.service.list(
        actor=ADA, query=TaskQuery(type="csv_generation", status=TaskStatus.PENDING)
    )
    assert [t.id for t in page.items] == [wanted.id]


def test_list_pages_newest_first_with_the_total(desk: Desk) -> None:
    tasks = [desk.enqueue() for _ in range(5)]
    newest_first = [t.id for t in reversed(tasks)]
    pages = [desk.service.list(actor=ADA, query=TaskQuery(page=p, limit=2)) for p in (1, 2, 3, 4)]
    assert [[t.id for t in page.items] for page in pages] == [
        newest_first[0:2],
        newest_first[2:4],
        newest_first[4:5],
        [],
    ]
    assert {page.total for page in pages} == {5}


def test_owner_gets_their_task(desk: Desk) -> None:
    task = desk.enqueue(ADA)
    assert desk.service.get(actor=ADA, task_id=task.id) == task


def test_another_users_task_looks_absent(desk: Desk) -> None:
    task = desk.enqueue(BOB)
    with pytest.raises(TaskNotFound):
        desk.service.get(actor=ADA, task_id=task.id)


def test_admin_gets_anyones_task(desk: Desk) -> None:
    task = desk.enqueue(BOB)
    assert desk.service.get(actor=ADMIN, task_id=task.id) == task


def test_unknown_task_is_not_found(desk: Desk) -> None:
    with pytest.raises(TaskNotFound):
        desk.service.get(actor=ADMIN, task_id=uuid4())


def test_cancel_withdraws_a_pending_task(desk: Desk) -> None:
    task = desk.enqueue()
    cancelled = desk.service.cancel(actor=ADA, task_id=task.id)
    assert cancelled.status is TaskStatus.CANCELLED
    assert desk.stored(task.id) == cancelled


def test_cancel_of_a_running_task_is_a_conflict(desk: Desk) -> None:
    task = desk.enqueue()
    desk.repository.claim(now=desk.clock.now(), worker_id="w1", limit=1)
    with pytest.raises(Conflict, match="is in_progress"):
        desk.service.cancel(actor=ADA, task_id=task.id)
    assert desk.stored(task.id).status is TaskStatus.IN_PROGRESS


def test_cancel_of_a_completed_task_is_a_conflict(desk: Desk) -> None:
    task = desk.settle(desk.enqueue(), fail=False)
    with pytest.raises(Conflict, match="is completed"):
        desk.service.cancel(actor=ADA, task_id=task.id)


def test_cancel_of_another_users_task_is_not_found(desk: Desk) -> None:
    task = desk.enqueue(BOB)
    with pytest.raises(TaskNotFound):
        desk.service.cancel(actor=ADA, task_id=task.id)
    assert desk.stored(task.id).status is TaskStatus.PENDING


def test_retry_gives_a_failed_task_a_fresh_set_of_attempts(desk: Desk) -> None:
    failed = desk.settle(desk.enqueue(), fail=True)
    desk.signal.wait(0)
    retried = desk.service.retry(actor=ADA, task_id=failed.id)
    assert (retried.status, retried.attempts) == (TaskStatus.PENDING, 0)
    assert desk.stored(failed.id) == retried
    assert desk.signal.wait(0)


def test_retry_of_a_cancelled_task_makes_it_pending_again(desk: Desk) -> None:
    task = desk.enqueue()
    desk.service.cancel(actor=ADA, task_id=task.id)
    assert desk.service.retry(actor=ADA, task_id=task.id).status is TaskStatus.PENDING


def test_retry_of_a_running_task_is_a_conflict(desk: Desk) -> None:
    task = desk.enqueue()
    [claimed] = desk.repository.claim(now=desk.clock.now(), worker_id="w1", limit=1)
    with pytest.raises(Conflict, match="is in_progress"):
        desk.service.retry(actor=ADA, task_id=task.id)
    assert desk.stored(task.id) == claimed


def test_retry_of_a_completed_task_is_a_conflict(desk: Desk) -> None:
    task = desk.settle(desk.enqueue(), fail=False)
    with pytest.raises(Conflict, match="is completed"):
        desk.service.retry(actor=ADA, task_id=task.id)


def test_retry_of_a_pending_task_is_a_conflict(desk: Desk) -> None:
    task = desk.enqueue()
    with pytest.raises(Conflict, match="is pending"):
        desk.service.retry(actor=ADA, task_id=task.id)


class ClaimingBehindTheBack(InMemoryTaskRepository):
    """A store where a worker claims every task just after the service reads it."""

    def get(self, task_id: UUID) -> Task | None:
        task = super().get(task_id)
        self.claim(now=task.run_at if task else FakeClock().now(), worker_id="sneaky", limit=1)
        return task


def test_cancel_that_races_a_claim_is_a_conflict_and_writes_nothing() -> None:
    clock = FakeClock()
    repository = ClaimingBehindTheBack()
    service = TaskService(repository=repository, clock=clock, signal=EventSignal())
    task = service.enqueue(actor=ADA, type="echo", payload={})
    with pytest.raises(Conflict, match="changed while we looked"):
        service.cancel(actor=ADA, task_id=task.id)
    stored = InMemoryTaskRepository.get(repository, task.id)
    assert stored is not None
    assert stored.status is TaskStatus.IN_PROGRESS
