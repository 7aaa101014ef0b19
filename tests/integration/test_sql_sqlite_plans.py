"""SQLite reads the partial indexes on the hot path, so finished tasks cost a claim nothing.

The plans are read with EXPLAIN QUERY PLAN from the SQL the store really sends: a
status condition SQLite cannot match against an index's WHERE (a bound parameter)
turns the claim into a scan of every row the table holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event

from adapters.sql.sqlite import SqliteTaskRepository
from tests.support.tasks import at, new_task


def _plans(engine: Engine, run: Callable[[SqliteTaskRepository], object]) -> list[list[str]]:
    """The query plan (its rows) of each read or update `run` sends through a fresh repository."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        sent.append((statement, params))

    # Listen first: a repository derives its writer engine from this one.
    event.listen(engine, "before_cursor_execute", capture)
    try:
        run(SqliteTaskRepository(engine))
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    plans = []
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, params in sent:
            if statement.lstrip().upper().startswith(("SELECT", "UPDATE")):
                cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
                plans.append([str(row[-1]) for row in cursor.fetchall()])
    finally:
        raw.close()
    return plans


def test_the_claim_finds_due_tasks_through_the_claimable_index(sqlite_engine: Engine) -> None:
    SqliteTaskRepository(sqlite_engine).add(new_task())

    (plan,) = _plans(
        sqlite_engine, lambda repository: repository.claim(now=at(1), worker_id="w", limit=10)
    )

    assert any("ix_tasks_claimable" in step for step in plan)
    assert "SCAN tasks" not in plan  # never every row


def test_the_stale_sweep_reads_the_in_progress_index(sqlite_engine: Engine) -> None:
    (plan,) = _plans(
        sqlite_engine, lambda repository: repository.find_stale(stale_before=at(1), limit=10)
    )

    assert any("ix_tasks_in_progress" in step for step in plan)
    assert "SCAN tasks" not in plan
