"""Writes after a claim: heartbeats, compare-and-set settles, and stale recovery."""

from __future__ import annotations

from datetime import timedelta, timezone

from application.ports import TaskRepository
from domain.backoff import BackoffPolicy
from domain.task import Task, TaskStatus
from tests.support.tasks import at, new_task

BACKOFF = BackoffPolicy()
PLUS_FIVE = timezone(timedelta(hours=5))


def claim_one(repository: TaskRepository, *, now: float = 10, worker: str = "w1") -> Task:
    [task] = repository.claim(now=at(now), worker_id=worker, limit=1)
    return task


def stored(repository: TaskRepository, task: Task) -> Task | None:
    return repository.get(task.id)


def test_a_settle_over_the_claimed_version_is_written(repository: TaskRepository) -> None:
    repository.add(new_task())
    claimed = claim_one(repository)
    completed = claimed.complete(now=at(20), result={"ok": True})

    assert repository.replace(completed, expected_version=claimed.version)
    assert stored(repository, claimed) == completed


def test_a_write_over_a_stale_version_writes_nothing(repository: TaskRepository) -> None:
    task = new_task()
    repository.add(task)
    claimed = claim_one(repository)

    # Cancelling from the pre-claim copy must not overwrite the claim.
    assert not repository.replace(task.cancel(now=at(20)), expected_version=task.version)
    assert stored(repository, claimed) == claimed


def test_a_heartbeat_refreshes_only_the_heartbeat(repository: TaskRepository) -> None:
    repository.add(new_task())
    claimed = claim_one(repository)

    assert repository.heartbeat(claimed, now=at(40))
    assert stored(repository, claimed) == claimed.heartbeat(now=at(40))


def test_a_heartbeat_for_a_lost_claim_returns_false(repository: TaskRepository) -> None:
    repository.add(new_task())
    claimed = claim_one(repository)
    repository.replace(claimed.complete(now=at(20), result={}), expected_version=claimed.version)

    assert not repository.heartbeat(claimed, now=at(30))


def test_a_task_whose_worker_went_quiet_is_found_stale(repository: TaskRepository) -> None:
    repository.add_many([new_task(), new_task()])
    quiet = claim_one(repository, now=10)
    alive = claim_one(repository, now=10, worker="w2")
    repository.heartbeat(alive, now=at(200))

    assert list(repository.find_stale(stale_before=at(100), limit=10)) == [quiet]


def test_find_stale_returns_at_most_the_limit(repository: TaskRepository) -> None:
    repository.add_many([new_task() for _ in range(3)])
    repository.claim(now=at(10), worker_id="w1", limit=3)

    assert len(repository.find_stale(stale_before=at(100), limit=2)) == 2


def test_finished_and_waiting_tasks_are_never_stale(repository: TaskRepository) -> None:
    repository.add_many([new_task(), new_task()])
    claimed = claim_one(repository)
    repository.replace(claimed.complete(now=at(11), result={}), expected_version=claimed.version)

    assert list(repository.find_stale(stale_before=at(1_000), limit=10)) == []


def test_a_stale_task_is_recovered_as_a_failed_attempt(repository: TaskRepository) -> None:
    repository.add(new_task())
    claim_one(repository)
    [stale] = repository.find_stale(stale_before=at(100), limit=10)
    expired = stale.expire(now=at(400), backoff=BACKOFF)

    assert repository.replace(expired, expected_version=stale.version, heartbeat_before=at(100))
    assert stored(repository, stale) == expired
    assert expired.status is TaskStatus.RETRYING


def test_stale_recovery_leaves_a_task_that_heartbeated_meanwhile(
    repository: TaskRepository,
) -> None:
    repository.add(new_task())
    claimed = claim_one(repository)
    [stale] = repository.find_stale(stale_before=at(100), limit=10)
    repository.heartbeat(claimed, now=at(150))

    expired = stale.expire(now=at(400), backoff=BACKOFF)
    assert not repository.replace(expired, expected_version=stale.version, heartbeat_before=at(100))
    assert stored(repository, claimed) == claimed.heartbeat(now=at(150))


def test_stale_recovery_leaves_a_task_that_settled_meanwhile(repository: TaskRepository) -> None:
    repository.add(new_task())
    claimed = claim_one(repository)
    [stale] = repository.find_stale(stale_before=at(100), limit=10)
    completed = claimed.complete(now=at(150), result={"late": "but done"})
    repository.replace(completed, expected_version=claimed.version)

    expired = stale.expire(now=at(400), backoff=BACKOFF)
    assert not repository.replace(expired, expected_version=stale.version, heartbeat_before=at(100))
    assert stored(repository, claimed) == completed


def test_a_worker_that_lost_its_claim_writes_nothing(repository: TaskRepository) -> None:
    repository.add(new_task(max_attempts=3))
    slow = claim_one(repository, now=10)
    expired = slow.expire(now=at(400), backoff=BACKOFF)
    repository.replace(expired, expected_version=slow.version, heartbeat_before=at(100))
    again = claim_one(repository, now=500, worker="w2")

    late = slow.complete(now=at(600), result={"from": "the slow worker"})
    assert not repository.replace(late, expected_version=slow.version)
    assert not repository.heartbeat(slow, now=at(600))
    assert stored(repository, slow) == again


def test_a_batch_of_settles_reports_which_writes_landed(repository: TaskRepository) -> None:
    repository.add_many([new_task(created=i) for i in range(3)])
    first, second, third = repository.claim(now=at(10), worker_id="w1", limit=3)
    # The second task was taken back as stale before the batch arrives.
    recovered = second.expire(now=at(400), backoff=BACKOFF)
    repository.replace(recovered, expected_version=second.version, heartbeat_before=at(100))
    settled = [
        first.complete(now=at(500), result={"n": 1}),
        second.complete(now=at(500), result={"n": 2}),
        third.fail(now=at(500), message="nope", backoff=BACKOFF, retryable=False),
    ]

    written = repository.replace_many(
        [
            (task, claimed.version)
            for task, claimed in zip(settled, (first, second, third), strict=True)
        ]
    )

    assert list(written) == [True, False, True]
    assert [stored(repository, t) for t in (first, second, third)] == [
        settled[0],
        recovered,
        settled[2],
    ]


def test_an_empty_batch_of_settles_writes_nothing(repository: TaskRepository) -> None:
    assert list(repository.replace_many([])) == []


def test_stale_cutoffs_with_an_offset_compare_as_the_same_instant(
    repository: TaskRepository,
) -> None:
    repository.add(new_task())
    claimed = claim_one(repository, now=100)
    offset = at(99).astimezone(PLUS_FIVE)

    assert list(repository.find_stale(stale_before=offset, limit=10)) == []
    assert list(repository.find_stale(stale_before=at(101).astimezone(PLUS_FIVE), limit=10)) == [
        claimed
    ]


def test_exact_times_and_json_values_survive_enqueue_claim_and_a_batch_settle(
    repository: TaskRepository,
) -> None:
    # Microseconds, a time on the whole second, big and fractional numbers, text
    # beyond ASCII: each store encodes these itself on its hot path.
    odd = {"big": 2**70, "pi": 3.14159, "neg": -0.5, "text": 'Zoë ☃ \\ "q"', "nil": None}
    repository.add_many([new_task(created=0.000123, payload=odd), new_task(created=1)])
    claimed = repository.claim(now=at(2.5), worker_id="w1", limit=2)
    settled = [
        claimed[0].complete(now=at(3.000001), result=odd),
        claimed[1].fail(now=at(4), message="broke ☃", backoff=BACKOFF),
    ]

    pairs = [(task, was.version) for was, task in zip(claimed, settled, strict=True)]

    assert repository.replace_many(pairs) == [True, True]
    assert [stored(repository, task) for task in settled] == settled
    assert settled[0].payload == odd


class _Label(str):
    """A str subclass, as handlers return them (a numpy scalar is a float subclass)."""


class _Count(int):
    """An int subclass."""


class _Ratio(float):
    """A float subclass, as numpy.float64 is."""


def test_values_of_str_int_and_float_subclasses_are_stored_as_their_base_values(
    repository: TaskRepository,
) -> None:
    # check_document lets them through (json.dumps writes them); so must every store.
    odd = {"label": _Label("ok"), "count": _Count(3), "ratio": _Ratio(0.25)}
    repository.add_many([new_task(payload=odd), new_task(created=1)])
    claimed = repository.claim(now=at(2), worker_id="w1", limit=2)
    pairs = [(task.complete(now=at(3), result=odd), task.version) for task in claimed]

    assert repository.replace_many(pairs) == [True, True]
    assert [stored(repository, task) for task, _ in pairs] == [task for task, _ in pairs]
