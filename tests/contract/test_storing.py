"""Storing and reading tasks: faithful round trips, listing, JSON and time edge cases."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest

from adapters.sql.postgres import COPY_FROM
from application.payloads import MAX_DEPTH, MAX_PAYLOAD_BYTES, check_document, encoded_size
from application.ports import TaskQuery, TaskRepository, TaskSummary
from domain.backoff import BackoffPolicy
from domain.task import Task, TaskStatus
from tests.support.tasks import at, new_task

PLUS_FIVE = timezone(timedelta(hours=5))
#: A batch size that takes every store's bulk path.
BULK = 2 * COPY_FROM


def test_a_stored_task_reads_back_equal_in_every_field(repository: TaskRepository) -> None:
    claimed = new_task(priority=3, max_attempts=4).claim(now=at(1), worker_id="w1")
    failed_once = claimed.fail(now=at(2), message="first try broke", backoff=BackoffPolicy())
    done = failed_once.claim(now=at(10), worker_id="w2").complete(
        now=at(11), result={"rows": 2, "path": "/tmp/out.csv"}
    )
    repository.add(done)

    assert repository.get(done.id) == done


def test_an_unknown_id_reads_as_none(repository: TaskRepository) -> None:
    assert repository.get(uuid4()) is None


def test_adding_an_existing_id_is_refused_and_stores_nothing_of_the_batch(
    repository: TaskRepository,
) -> None:
    existing = new_task()
    repository.add(existing)
    fresh = new_task()

    with pytest.raises(ValueError, match="already exists"):
        repository.add_many([fresh, new_task(id=existing.id, payload={"other": True})])

    assert repository.get(fresh.id) is None
    assert repository.get(existing.id) == existing


def test_a_large_batch_reads_back_equal_in_every_field(repository: TaskRepository) -> None:
    # Large enough for the bulk path of every store (PostgreSQL switches to COPY).
    tasks = [_in_some_state(n) for n in range(BULK)]
    repository.add_many(tasks)

    assert [repository.get(task.id) for task in tasks] == tasks


def test_a_duplicate_anywhere_in_a_large_batch_stores_nothing_of_it(
    repository: TaskRepository,
) -> None:
    existing = new_task()
    repository.add(existing)
    fresh = [new_task(created=n) for n in range(BULK)]

    with pytest.raises(ValueError, match="already exists"):
        repository.add_many([*fresh, new_task(id=existing.id)])

    assert [repository.get(task.id) for task in fresh] == [None] * BULK


def test_the_list_is_newest_first_with_the_total(repository: TaskRepository) -> None:
    tasks = [new_task(created=i) for i in range(5)]
    repository.add_many(tasks)

    page = repository.list(TaskQuery(limit=2))

    assert [t.id for t in page.items] == [tasks[4].id, tasks[3].id]
    assert page.total == 5


def test_the_list_holds_summaries_without_payloads_or_results(
    repository: TaskRepository,
) -> None:
    done = (
        new_task(payload={"big": "x" * 10_000})
        .claim(now=at(1), worker_id="w1")
        .complete(now=at(2), result={"rows": 1})
    )
    repository.add(done)

    (listed,) = repository.list(TaskQuery()).items

    assert listed == TaskSummary.of(done)
    assert not hasattr(listed, "payload")
    assert not hasattr(listed, "result")


def test_pages_cover_every_task_once_in_a_stable_order_even_when_times_tie(
    repository: TaskRepository,
) -> None:
    # Seven tasks created in the same microsecond: the id breaks the tie.
    tasks = [new_task(created=1) for _ in range(7)]
    repository.add_many(tasks)

    pages = [repository.list(TaskQuery(page=n, limit=3)) for n in (1, 2, 3, 4)]

    listed = [t.id for page in pages for t in page.items]
    assert listed == sorted((t.id for t in tasks), key=lambda i: i.bytes, reverse=True)
    assert [len(page.items) for page in pages] == [3, 3, 1, 0]
    assert {page.total for page in pages} == {7}


def test_the_list_filters_by_owner_type_and_status_together(repository: TaskRepository) -> None:
    wanted = new_task(owner="ada", type="csv_generation")
    others = [
        new_task(owner="bob", type="csv_generation"),
        new_task(owner="ada", type="email_delivery"),
        new_task(owner="ada", type="csv_generation").cancel(now=at(1)),
    ]
    repository.add_many([wanted, *others])

    page = repository.list(TaskQuery(owner="ada", type="csv_generation", status=TaskStatus.PENDING))

    assert [t.id for t in page.items] == [wanted.id]
    assert page.total == 1


def test_the_total_counts_matches_beyond_the_page(repository: TaskRepository) -> None:
    repository.add_many([new_task(owner="ada", created=i) for i in range(4)])
    repository.add(new_task(owner="bob"))

    page = repository.list(TaskQuery(owner="ada", page=3, limit=3))

    assert (list(page.items), page.total) == ([], 4)


def test_a_time_with_an_offset_round_trips_as_the_same_instant_in_utc(
    repository: TaskRepository,
) -> None:
    [claimed] = _add_and_claim(repository)
    beat = at(30).astimezone(PLUS_FIVE)

    assert repository.heartbeat(claimed, now=beat)

    stored = repository.get(claimed.id)
    assert stored is not None
    assert stored.heartbeat_at == at(30)
    assert stored.heartbeat_at is not None
    assert stored.heartbeat_at.utcoffset() == timedelta(0)


def test_non_ascii_text_is_stored_faithfully(repository: TaskRepository) -> None:
    payload = {"名前": "Zoë Ångström", "emoji": "🧵🚀", "rtl": "שלום", "escape": 'quote " \\ \n'}
    task = new_task(payload=payload)
    repository.add(task)

    assert _stored_payload(repository, task.id) == payload


def test_a_payload_nested_to_the_documented_depth_is_stored_faithfully(
    repository: TaskRepository,
) -> None:
    payload = _nested(MAX_DEPTH)
    check_document(payload, field="payload", limit=MAX_PAYLOAD_BYTES)  # the API accepts it
    task = new_task(payload=payload)
    repository.add(task)

    assert _stored_payload(repository, task.id) == payload


def test_a_payload_at_the_documented_size_limit_is_stored_faithfully(
    repository: TaskRepository,
) -> None:
    payload: dict[str, Any] = {"text": "", "items": [{"é": i} for i in range(100)]}
    payload["text"] = "ü" * ((MAX_PAYLOAD_BYTES - encoded_size(payload)) // 2)
    assert MAX_PAYLOAD_BYTES - 2 < encoded_size(payload) <= MAX_PAYLOAD_BYTES
    task = new_task(payload=payload)
    repository.add(task)

    assert _stored_payload(repository, task.id) == payload


def _in_some_state(n: int) -> Task:
    """Task `n` of a varied batch: every status, errors, results, odd text and JSON."""
    task = new_task(
        created=n,
        priority=n % 7 - 3,
        owner=("plain", "back\\slash", "tab\there", "line\nbreak\r")[n % 4],
        payload={"n": n, "text": 'Zoë "quoted" \\ tab\t line\n', "nest": [{"k": [n]}]},
    )
    if n % 4 == 0:
        return task
    claimed = task.claim(now=at(n + 1), worker_id=f"w{n}")
    if n % 4 == 1:
        return claimed
    if n % 4 == 2:
        return claimed.complete(now=at(n + 2), result={"rows": n, "tab": "a\tb"})
    return claimed.fail(
        now=at(n + 2), message=f"attempt {n} broke \\ here\n", backoff=BackoffPolicy()
    )


def _nested(depth: int) -> dict[str, Any]:
    """A JSON object whose innermost value sits `depth` containers down."""
    inner: Any = "bottom"
    for level in range(depth - 1):
        inner = [inner] if level % 2 else {"k": inner}
    return {"nest": inner}


def _stored_payload(repository: TaskRepository, task_id: Any) -> dict[str, Any]:
    stored = repository.get(task_id)
    assert stored is not None
    return stored.payload


def _add_and_claim(repository: TaskRepository) -> list[Any]:
    repository.add(new_task())
    return list(repository.claim(now=at(10), worker_id="w1", limit=1))
