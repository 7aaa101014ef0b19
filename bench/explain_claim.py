"""EXPLAIN ANALYZE of taskspool's claim and settle on a table with many finished tasks.

    python bench/explain_claim.py [--finished 1000000] [--pending 20000] [--batch 1000]

Starts a throwaway cluster like run.py, stores the finished and pending tasks, and
prints the plans of the statements the PostgreSQL repository sends on the hot path:
one claim of `--batch` tasks and the `replace_many` that settles them, with the
parameters the repository itself would bind. Each runs in a transaction that is
rolled back, so the claim and the settle are explained against the same rows.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "src"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import psycopg  # noqa: E402

from adapters.clock import SystemClock  # noqa: E402
from adapters.sql import postgres  # noqa: E402
from adapters.sql.rows import from_values  # noqa: E402
from bench.cluster import running_cluster  # noqa: E402
from bench.subject_taskspool import PostgresSubject  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--finished", type=int, default=1_000_000)
    parser.add_argument("--pending", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()
    subject = PostgresSubject()
    clock = SystemClock()
    with running_cluster() as cluster, cluster.database("explain") as url:
        subject.prepare(url)
        subject.add_finished(url, args.finished)
        subject.enqueue_bulk(url, args.pending, chunk=1_000)
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("VACUUM ANALYZE tasks")
        with psycopg.connect(url) as connection:
            connection.execute("SET TIME ZONE 'UTC'")
            claim = {"now": clock.now(), "worker": "explain", "limit": args.batch}
            _explain(connection, f"claim of {args.batch}", postgres._CLAIM, claim)
            # The settle needs claimed rows to match: claim for real, settle, roll back.
            claimed = [from_values(row) for row in connection.execute(postgres._CLAIM, claim)]
            now = clock.now()
            settled = [
                postgres._settled(t.complete(now=now, result={}), t.version) for t in claimed
            ]
            # As replace_many sends it: msgspec's JSON of the settled rows.
            document = postgres._encode(settled).decode()
            _explain(
                connection,
                f"replace_many of {len(claimed)}",
                postgres._REPLACE_MANY,
                (document,),
            )
            connection.rollback()
    return 0


def _explain(
    connection: psycopg.Connection[tuple[object, ...]], title: str, sql: str, params: object
) -> None:
    """Print the plan of `sql` as run now; what it changed is rolled back to a savepoint."""
    print(f"\n=== {title} ===\n{_short(sql)}\n")
    with connection.transaction(force_rollback=True):
        # psycopg's types want a literal query; this one is composed from the
        # repository's own constant SQL, no outside text.
        rows = connection.execute("EXPLAIN (ANALYZE, BUFFERS, SETTINGS) " + sql, params)  # type: ignore[arg-type]
        for (line,) in rows.fetchall():
            print(line)


def _short(statement: str, limit: int = 1_500) -> str:
    return statement if len(statement) <= limit else statement[:limit] + " ..."


if __name__ == "__main__":
    sys.exit(main())
