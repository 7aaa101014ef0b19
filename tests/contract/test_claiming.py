"""Claims: which tasks, in what order, exactly as the domain says, never twice."""

from __future__ import annotations

import threading
from datetime import timedelta, timezone
from uuid import UUID

from application.ports import TaskRepository
from domain.task import TaskStatus
from tests.contract.conftest import RepositoryFactory
from tests.support.tasks import at, new_task, retrying_task

PLUS_FIVE = timezone(timedelta(hours=5))


def claim_ids(repository: TaskRepository, *, now: float = 100, limit: int = 10) -> list[UUID]:
    return [task.id for task in repository.claim(now=at(now), worker_id="w1", limit=limit)]


def test_claim_takes_the_highest_priority_first(repository: TaskRepository) -> None:
    low, high = new_task(priority=0), new_task(priority=5, created=1, run_at=2)
    repository.add_many([low, high])

    assert claim_ids(repository, limit=1) == [high.id]


def test_claim_takes_the_earliest_run_at_among_equal_priorities(
    repository: TaskRepository,
) -> None:
    later, sooner = new_task(run_at=20), new_task(created=1, run_at=10)
    repository.add_many([later, sooner])

    assert claim_ids(repository, limit=1) == [sooner.id]


def test_claim_takes_the_earliest_created_among_equal_run_at(repository: TaskRepository) -> None:
    newer, older = new_task(created=5, run_at=10), new_task(created=1, run_at=10)
    repository.add_many([newer, older])

    assert claim_ids(repository, limit=1) == [older.id]


def test_a_batch_claim_takes_up_to_the_limit_in_claim_order(repository: TaskRepository) -> None:
    tasks = [new_task(created=i, priority=i % 3) for i in range(7)]
    repository.add_many(tasks)
    expected = sorted(tasks, key=lambda t: (-t.priority, t.run_at, t.created_at))

    assert claim_ids(repository, limit=4) == [t.id for t in expected[:4]]
    assert claim_ids(repository, limit=4) == [t.id for t in expected[4:]]


def test_tasks_not_yet_due_are_not_claimed(repository: TaskRepository) -> None:
    repository.add(new_task(run_at=101))

    assert claim_ids(repository, now=100) == []


def test_only_pending_and_retrying_tasks_are_claimed(repository: TaskRepository) -> None:
    pending, retrying = new_task(), retrying_task()
    in_progress = new_task().claim(now=at(1), worker_id="w0")
    cancelled = new_task().cancel(now=at(1))
    finished = new_task().claim(now=at(1), worker_id="w0").complete(now=at(2), result={})
    repository.add_many([pending, retrying, in_progress, cancelled, finished])

    assert set(claim_ids(repository)) == {pending.id, retrying.id}


def test_a_claimed_task_equals_the_domain_claim_of_its_stored_state(
    repository: TaskRepository,
) -> None:
    task = retrying_task()
    repository.add(task)
    stored_before = repository.get(task.id)
    assert stored_before is not None

    claimed = repository.claim(now=at(100), worker_id="worker-7", limit=1)

    assert list(claimed) == [stored_before.claim(now=at(100), worker_id="worker-7")]
    assert repository.get(task.id) == claimed[0]


def test_a_claimed_task_is_not_claimed_again(repository: TaskRepository) -> None:
    repository.add(new_task())
    claim_ids(repository)

    assert claim_ids(repository, now=200) == []


def test_concurrent_claims_never_return_the_same_task(
    open_repository: RepositoryFactory,
) -> None:
    tasks = [new_task(created=i % 5, priority=i % 2) for i in range(60)]
    open_repository().add_many(tasks)
    workers = [open_repository() for _ in range(4)]
    claimed: list[list[UUID]] = [[] for _ in workers]
    start = threading.Barrier(len(workers))

    def drain(index: int, repository: TaskRepository) -> None:
        start.wait()
        while batch := repository.claim(now=at(100), worker_id=f"w{index}", limit=3):
            claimed[index].extend(task.id for task in batch)

    threads = [threading.Thread(target=drain, args=pair) for pair in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    every_claim = [task_id for ids in claimed for task_id in ids]
    assert sorted(every_claim) == sorted(task.id for task in tasks)


def test_a_claim_with_an_offset_now_compares_as_the_same_instant(
    repository: TaskRepository,
) -> None:
    task = new_task(run_at=0)
    repository.add(task)
    # One second before run_at, written in +05:00: its wall clock reads hours later.
    before_due = at(-1).astimezone(PLUS_FIVE)

    assert repository.claim(now=before_due, worker_id="w1", limit=1) == []
    [claimed] = repository.claim(now=at(0).astimezone(PLUS_FIVE), worker_id="w1", limit=1)
    assert claimed.locked_at == at(0)
    assert claimed.locked_at is not None
    assert claimed.locked_at.utcoffset() == timedelta(0)


def test_claimed_tasks_are_in_progress_and_hold_the_worker(repository: TaskRepository) -> None:
    repository.add(new_task())

    [claimed] = repository.claim(now=at(100), worker_id="w9", limit=1)

    assert (claimed.status, claimed.locked_by, claimed.attempts) == (
        TaskStatus.IN_PROGRESS,
        "w9",
        1,
    )
