"""SQLite reads the partial indexes on the hot path, so finished tasks cost a claim nothing.

The plans are read with EXPLAIN QUERY PLAN from the SQL the store really sends (the
claim and the settle run on sqlite3 directly, so theirs are their module's own
statements): a status condition SQLite cannot match against an index's WHERE (a
bound parameter) turns the claim into a scan of every row the table holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event

from adapters.sql import sqlite
from adapters.sql.sqlite import SqliteTaskRepository
from adapters.sql.sqlite_values import time_text
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
    return [
        _plan(engine, statement, params)
        for statement, params in sent
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE"))
    ]


def _plan(engine: Engine, statement: str, params: Any) -> list[str]:
    """The query plan (its rows) of `statement` with `params`."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
        return [str(row[-1]) for row in cursor.fetchall()]
    finally:
        raw.close()


def test_the_claim_finds_due_tasks_through_the_claimable_index(sqlite_engine: Engine) -> None:
    SqliteTaskRepository(sqlite_engine).add(new_task())

    plan = _plan(sqlite_engine, sqlite.CLAIM, {"now": time_text(at(1)), "worker": "w", "limit": 10})

    assert any("ix_tasks_claimable" in step for step in plan)
    assert "SCAN tasks" not in plan  # never every row


def test_the_stale_sweep_reads_the_in_progress_index(sqlite_engine: Engine) -> None:
    (plan,) = _plans(
        sqlite_engine, lambda repository: repository.find_stale(stale_before=at(1), limit=10)
    )

    assert any("ix_tasks_in_progress" in step for step in plan)
    assert "SCAN tasks" not in plan


def test_the_settle_finds_each_task_by_its_key(sqlite_engine: Engine) -> None:
    plan = _plan(sqlite_engine, sqlite.REPLACE, [None] * sqlite.REPLACE.count("?"))

    # The primary key of a table with rowids is its automatic unique index.
    assert plan == ["SEARCH tasks USING INDEX sqlite_autoindex_tasks_1 (id=?)"]
