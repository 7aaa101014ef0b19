"""The task's rules one by one: attempts, retries, expiry, release, time and error text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.errors import InvalidTransition
from domain.lease import LeasePolicy
from domain.task import MAX_ERROR_CHARS, ErrorRecord, Task, TaskStatus, bounded_message
from tests.unit.builders import BACKOFF, LATER, NOW, new_task, task_in


def test_new_task_is_pending_due_now_with_no_attempts() -> None:
    task = new_task()
    assert (task.status, task.attempts, task.run_at, task.version) == (
        TaskStatus.PENDING,
        0,
        NOW,
        0,
    )


def test_max_attempts_defaults_to_three() -> None:
    assert new_task().max_attempts == 3


@pytest.mark.parametrize("max_attempts", [0, -1])
def test_max_attempts_below_one_is_refused(max_attempts: int) -> None:
    with pytest.raises(ValueError, match="max_attempts must be at least 1"):
        new_task(max_attempts=max_attempts)


def test_claim_counts_an_attempt_and_locks_the_task_to_the_worker() -> None:
    claimed = new_task().claim(now=NOW, worker_id="w7")
    assert claimed.status is TaskStatus.IN_PROGRESS
    assert claimed.attempts == 1
    assert (claimed.locked_by, claimed.locked_at, claimed.heartbeat_at) == ("w7", NOW, NOW)
    assert claimed.started_at == NOW


def test_claim_before_run_at_is_refused() -> None:
    task = new_task(run_at=NOW + timedelta(seconds=10))
    with pytest.raises(InvalidTransition):
        task.claim(now=NOW + timedelta(seconds=9), worker_id="w1")


def test_claim_at_exactly_run_at_is_allowed() -> None:
    due = NOW + timedelta(seconds=10)
    assert new_task(run_at=due).claim(now=due, worker_id="w1").status is TaskStatus.IN_PROGRESS


def test_retrying_task_is_not_claimable_before_its_backoff_ends() -> None:
    retrying = task_in(TaskStatus.RETRYING)
    with pytest.raises(InvalidTransition):
        retrying.claim(now=retrying.run_at - timedelta(microseconds=1), worker_id="w2")


def test_complete_stores_the_result_and_unlocks() -> None:
    done = task_in(TaskStatus.IN_PROGRESS).complete(now=LATER, result={"rows": 2})
    assert done.result == {"rows": 2}
    assert done.finished_at == LATER
    assert (done.locked_by, done.locked_at, done.heartbeat_at) == (None, None, None)


def test_failure_with_attempts_left_schedules_a_retry_after_the_backoff() -> None:
    failed_once = task_in(TaskStatus.IN_PROGRESS).fail(now=LATER, message="x", backoff=BACKOFF)
    assert failed_once.status is TaskStatus.RETRYING
    assert failed_once.run_at == LATER + timedelta(seconds=5)
    assert failed_once.locked_by is None


def test_second_failure_waits_twice_as_long() -> None:
    first = task_in(TaskStatus.RETRYING)
    second = first.claim(now=first.run_at, worker_id="w2").fail(
        now=LATER, message="x", backoff=BACKOFF
    )
    assert second.attempts == 2
    assert second.run_at == LATER + timedelta(seconds=10)


def test_failure_on_the_last_attempt_fails_the_task() -> None:
    task = new_task(max_attempts=1).claim(now=NOW, worker_id="w1")
    failed = task.fail(now=LATER, message="x", backoff=BACKOFF)
    assert failed.status is TaskStatus.FAILED
    assert failed.finished_at == LATER


def test_non_retryable_failure_fails_at_once_even_with_attempts_left() -> None:
    task = new_task(max_attempts=5).claim(now=NOW, worker_id="w1")
    failed = task.fail(now=LATER, message="bad input", backoff=BACKOFF, retryable=False)
    assert failed.status is TaskStatus.FAILED
    assert failed.attempts == 1


def test_failure_records_attempt_time_and_message_in_the_history() -> None:
    failed = task_in(TaskStatus.IN_PROGRESS).fail(now=LATER, message="boom", backoff=BACKOFF)
    assert failed.error == "boom"
    assert failed.errors == (ErrorRecord(attempt=1, at=LATER, message="boom"),)


def test_expired_lease_counts_as_a_failed_attempt() -> None:
    running = task_in(TaskStatus.IN_PROGRESS)
    expired = running.expire(now=LATER, backoff=BACKOFF)
    assert expired.status is TaskStatus.RETRYING
    assert expired.attempts == 1
    assert expired.run_at == LATER + BACKOFF.delay(1)
    assert expired.error is not None
    assert "lease expired" in expired.error
    assert "w1" in expired.error


def test_task_that_kills_its_worker_every_time_ends_failed() -> None:
    task = new_task(max_attempts=3)
    now = NOW
    for _ in range(3):
        task = task.claim(now=now, worker_id="doomed").expire(now=now, backoff=BACKOFF)
        now = task.run_at
    assert task.status is TaskStatus.FAILED
    assert task.attempts == 3
    assert len(task.errors) == 3


def test_release_does_not_count_the_attempt() -> None:
    released = task_in(TaskStatus.IN_PROGRESS).release(now=LATER)
    assert released.status is TaskStatus.PENDING
    assert released.attempts == 0
    assert released.run_at == LATER
    assert released.errors == ()
    assert released.locked_by is None


def test_operator_retry_gives_a_fresh_set_of_attempts_due_now() -> None:
    failed = task_in(TaskStatus.FAILED)
    retried = failed.retry(now=LATER)
    assert (retried.status, retried.attempts, retried.run_at) == (TaskStatus.PENDING, 0, LATER)
    assert retried.finished_at is None
    assert retried.errors == failed.errors


def test_heartbeat_refreshes_the_lease_without_a_transition() -> None:
    running = task_in(TaskStatus.IN_PROGRESS)
    beaten = running.heartbeat(now=LATER)
    assert beaten.heartbeat_at == LATER
    assert (beaten.version, beaten.status, beaten.updated_at) == (
        running.version,
        running.status,
        running.updated_at,
    )


def test_heartbeat_of_a_task_not_in_progress_is_refused() -> None:
    with pytest.raises(InvalidTransition):
        task_in(TaskStatus.COMPLETED).heartbeat(now=LATER)


def test_naive_creation_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        new_task(now=datetime(2026, 1, 1, 12, 0))  # noqa: DTZ001 (the point of the test)


def test_naive_claim_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        new_task().claim(now=datetime(2026, 1, 2), worker_id="w1")  # noqa: DTZ001 (naive on purpose)


def test_times_with_an_offset_are_normalised_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    task = new_task(now=datetime(2026, 1, 1, 13, 0, tzinfo=paris))
    assert task.created_at == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert task.created_at.tzinfo is UTC
    assert task.run_at.tzinfo is UTC


def test_claim_time_with_an_offset_is_stored_in_utc() -> None:
    tokyo = timezone(timedelta(hours=9))
    claimed = new_task().claim(now=LATER.astimezone(tokyo), worker_id="w1")
    assert claimed.locked_at == LATER
    assert claimed.locked_at is not None
    assert claimed.locked_at.tzinfo is UTC
    assert claimed.updated_at.tzinfo is UTC


def test_huge_error_message_is_cut_to_the_bound_and_says_so() -> None:
    failed = task_in(TaskStatus.IN_PROGRESS).fail(now=LATER, message="x" * 10**6, backoff=BACKOFF)
    assert failed.error is not None
    assert len(failed.error) <= MAX_ERROR_CHARS
    assert failed.error.endswith("[truncated]")
    assert failed.errors[-1].message == failed.error


def test_error_message_at_the_bound_is_kept_whole() -> None:
    assert bounded_message("y" * MAX_ERROR_CHARS) == "y" * MAX_ERROR_CHARS


def test_nul_characters_are_escaped_out_of_error_messages() -> None:
    failed = task_in(TaskStatus.IN_PROGRESS).fail(now=LATER, message="a\x00b", backoff=BACKOFF)
    assert failed.error == "a\\x00b"


def test_message_made_of_nul_characters_stays_within_the_bound() -> None:
    assert len(bounded_message("\x00" * MAX_ERROR_CHARS)) <= MAX_ERROR_CHARS


def test_lease_window_defaults_to_five_minutes() -> None:
    assert LeasePolicy().stale_after == timedelta(minutes=5)


@pytest.mark.parametrize("window", [timedelta(0), timedelta(seconds=-1)])
def test_lease_window_must_be_positive(window: timedelta) -> None:
    with pytest.raises(ValueError, match="stale_after must be positive"):
        LeasePolicy(stale_after=window)


def test_task_whose_heartbeat_is_older_than_the_window_is_stale() -> None:
    running = task_in(TaskStatus.IN_PROGRESS)
    now = NOW + timedelta(minutes=5, microseconds=1)
    assert running.is_stale(LeasePolicy().stale_before(now))


def test_task_whose_heartbeat_is_exactly_the_window_old_is_not_stale() -> None:
    running = task_in(TaskStatus.IN_PROGRESS)
    assert not running.is_stale(LeasePolicy().stale_before(NOW + timedelta(minutes=5)))


def test_recent_heartbeat_keeps_a_long_task_from_being_stale() -> None:
    running = task_in(TaskStatus.IN_PROGRESS).heartbeat(now=NOW + timedelta(minutes=4))
    assert not running.is_stale(LeasePolicy().stale_before(NOW + timedelta(minutes=8)))


def test_configured_window_decides_staleness() -> None:
    running = task_in(TaskStatus.IN_PROGRESS)
    short = LeasePolicy(stale_after=timedelta(seconds=30))
    assert running.is_stale(short.stale_before(NOW + timedelta(seconds=31)))


@pytest.mark.parametrize(
    "status", [s for s in TaskStatus if s is not TaskStatus.IN_PROGRESS], ids=str
)
def test_task_not_in_progress_is_never_stale(status: TaskStatus) -> None:
    assert not task_in(status).is_stale(LeasePolicy().stale_before(LATER + timedelta(days=365)))


def test_workers_heartbeat_five_times_per_window() -> None:
    assert LeasePolicy().heartbeat_every() == timedelta(minutes=1)


def test_task_is_frozen() -> None:
    task: Task = new_task()
    with pytest.raises(AttributeError):
        task.status = TaskStatus.COMPLETED  # type: ignore[misc]  # the point: frozen
