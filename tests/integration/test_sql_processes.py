"""Several OS processes on one database: no task is ever claimed or executed twice."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from collections.abc import Callable
from uuid import uuid4

import pytest
from sqlalchemy import Engine, func, select, text

from adapters.sql.postgres import PostgresTaskRepository
from adapters.sql.sqlite import SqliteTaskRepository
from adapters.sql.tables import tasks
from domain.task import Task
from tests.support import workers
from tests.support.tasks import T0, new_task

#: Spawned, not forked: each child builds its own engine from scratch.
SPAWN = multiprocessing.get_context("spawn")
#: Upper bound on waiting for children on a loaded machine (not a speed assertion).
CHILD_WAIT_S = 240


def run_children(
    targets: list[tuple[Callable[..., None], tuple[object, ...]]],
) -> list[workers.Report]:
    """Run each target in its own process, all starting together; return their reports."""
    results = SPAWN.Queue()
    start = SPAWN.Barrier(len(targets))
    children = [
        SPAWN.Process(target=target, args=(*args, start, results), daemon=True)
        for target, args in targets
    ]
    for child in children:
        child.start()
    reports = [results.get(timeout=CHILD_WAIT_S) for _ in children]
    for child in children:
        child.join(timeout=CHILD_WAIT_S)
    return reports


def test_worker_processes_on_one_sqlite_file_never_claim_a_task_twice_while_the_api_works(
    sqlite_url: str, sqlite_engine: Engine
) -> None:
    SqliteTaskRepository(sqlite_engine).add_many([new_task(created=i) for i in range(300)])
    enqueuing_done = SPAWN.Event()
    claimers = [(workers.sqlite_claimer, (sqlite_url, f"w{n}", enqueuing_done)) for n in range(3)]
    api = (workers.sqlite_api_client, (sqlite_url, "api", 100, enqueuing_done))

    reports = run_children([*claimers, api])

    assert [error for _, _, errors in reports for error in errors] == []
    claims = Counter(task_id for _, claimed, _ in reports for task_id in claimed)
    assert [task_id for task_id, times in claims.items() if times > 1] == []
    assert len(claims) == 400
    with sqlite_engine.connect() as connection:
        statuses = dict(
            connection.execute(select(tasks.c.status, func.count()).group_by(tasks.c.status)).all()
        )
    assert statuses == {"completed": 400}


@pytest.mark.postgres
def test_four_worker_processes_drain_2000_tasks_executing_each_exactly_once(
    postgres_url: str, postgres_engine: Engine
) -> None:
    with postgres_engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE executions (task_id uuid NOT NULL, worker text NOT NULL)")
        )
    try:
        PostgresTaskRepository(postgres_engine).add_many(
            [
                Task.create(id=uuid4(), type="record", owner="ada", payload={"n": n}, now=T0)
                for n in range(2000)
            ]
        )

        reports = run_children(
            [(workers.postgres_processor, (postgres_url, f"proc-{n}")) for n in range(4)]
        )

        assert [error for _, _, errors in reports for error in errors] == []
        with postgres_engine.connect() as connection:
            statuses = dict(
                connection.execute(
                    select(tasks.c.status, func.count()).group_by(tasks.c.status)
                ).all()
            )
            executions = connection.execute(
                text("SELECT count(*), count(DISTINCT task_id) FROM executions")
            ).one()
        assert statuses == {"completed": 2000}
        assert tuple(executions) == (2000, 2000)
        assert sum(1 for _, claimed, _ in reports if claimed) > 1  # the work was shared
    finally:
        with postgres_engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS executions"))
