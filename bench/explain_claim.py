"""EXPLAIN ANALYZE of taskspool's claim and settle on a table with many finished tasks.

    python bench/explain_claim.py [--finished 1000000] [--pending 20000] [--batch 32]

Starts a throwaway cluster like run.py, stores the finished and pending tasks,
captures the SQL the PostgreSQL repository really sends for one claim and one
`replace_many` (SQLAlchemy's `before_cursor_execute`), and prints the plans of
those statements, each run in a transaction that is rolled back.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "src"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import psycopg  # noqa: E402
from sqlalchemy import event  # noqa: E402

from adapters.clock import SystemClock  # noqa: E402
from adapters.sql.engine import make_engine  # noqa: E402
from application.processor import Processor, no_keepalive  # noqa: E402
from bench.cluster import running_cluster  # noqa: E402
from bench.subject_taskspool import TYPE, PostgresSubject  # noqa: E402


class _Captured(Exception):
    """Raised to stop a captured write from running."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--finished", type=int, default=1_000_000)
    parser.add_argument("--pending", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    subject = PostgresSubject()
    with running_cluster() as cluster, cluster.database("explain") as url:
        subject.prepare(url)
        subject.add_finished(url, args.finished)
        subject.enqueue_bulk(url, args.pending, chunk=1_000)
        engine = make_engine(url)
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("VACUUM ANALYZE tasks")
        captured: list[tuple[str, Any]] = []

        def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
            if statement.lstrip().upper().startswith(("UPDATE", "WITH")):
                captured.append((statement, params))
                raise _Captured  # the write is rolled back; EXPLAIN ANALYZE runs it below

        processor = Processor(
            repository=subject.repository(engine),
            clock=SystemClock(),
            handlers={TYPE: lambda task: {}},
            worker_id="explain",
            keepalive=no_keepalive,
        )
        # Listen only once the repository exists: SQLAlchemy engines derived with
        # execution_options() before a listener is added do not all see it.
        event.listen(engine, "before_cursor_execute", capture)
        with contextlib.suppress(_Captured):
            processor.claim(limit=args.batch)
        claim_sql = list(captured)
        captured.clear()
        event.remove(engine, "before_cursor_execute", capture)
        claimed = processor.claim(limit=args.batch)
        event.listen(engine, "before_cursor_execute", capture)
        with contextlib.suppress(_Captured):
            processor.settle_many([(task, processor.execute(task)) for task in claimed])
        settle_sql = list(captured)
        event.remove(engine, "before_cursor_execute", capture)
        for title, statements in (("claim", claim_sql), ("replace_many", settle_sql)):
            for statement, params in statements[:1]:
                print(f"\n=== {title}: {len(claimed)} tasks ===\n{_short(statement)}\n")
                raw = engine.raw_connection()
                try:
                    cursor = raw.cursor()
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, SETTINGS) " + statement, params)
                    for (line,) in cursor.fetchall():
                        print(line)
                    raw.rollback()
                finally:
                    raw.close()
        engine.dispose()
    return 0


def _short(statement: str, limit: int = 1_500) -> str:
    return statement if len(statement) <= limit else statement[:limit] + " ..."


if __name__ == "__main__":
    sys.exit(main())
