"""What PostgreSQL itself sustains on taskspool's schema: claim and settle, no client.

    python bench/ceiling.py [--tasks 20000] [--batch 100 1000] [--finished 0]

Starts a throwaway cluster like run.py (fsync and synchronous_commit on), queues the
tasks, and drains them with one PL/pgSQL loop inside the server: claim a batch with
the repository's own claim statement (which commits without waiting for its flush),
commit; complete the batch with one UPDATE, commit (durably); until nothing is left.
No Python, no network, no per-task work in a client: the figure is the ceiling a
worker process can approach, the issue's "batched SQL ceiling" for this table and
its indexes. The real settle carries every row's new state from the client (JSON),
so it costs more than this one.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "src"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import psycopg  # noqa: E402

from adapters.sql import postgres  # noqa: E402
from bench.cluster import running_cluster  # noqa: E402
from bench.subject_taskspool import PostgresSubject  # noqa: E402

#: The repository's claim with its parameters spelled as PL/pgSQL variables.
_CLAIM = (
    postgres._CLAIM.replace("%(now)s", "clock_timestamp()")
    .replace("%(worker)s", "'ceiling'")
    .replace("%(limit)s", "batch")
).split(" RETURNING ")[0]
_DRAIN = f"""
DO $$
DECLARE
    batch int := %(batch)s;
    claimed int;
BEGIN
    LOOP
        {_CLAIM};
        GET DIAGNOSTICS claimed = ROW_COUNT;
        COMMIT;
        EXIT WHEN claimed = 0;
        UPDATE tasks SET status = 'completed', result = '{{}}'::jsonb,
            finished_at = clock_timestamp(), updated_at = clock_timestamp(),
            locked_by = NULL, locked_at = NULL, heartbeat_at = NULL, version = version + 1
        WHERE status = 'in_progress' AND locked_by = 'ceiling';
        COMMIT;
    END LOOP;
END $$
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--batch", type=int, nargs="+", default=[100, 1_000])
    parser.add_argument("--finished", type=int, default=0)
    args = parser.parse_args()
    subject = PostgresSubject()
    with running_cluster() as cluster:
        print(f"PostgreSQL {cluster.version}, {args.tasks:,} tasks, {args.finished:,} finished")
        for batch in args.batch:
            with cluster.database(f"ceiling_{batch}") as url:
                subject.prepare(url)
                if args.finished:
                    subject.add_finished(url, args.finished)
                subject.enqueue_bulk(url, args.tasks, chunk=1_000)
                with psycopg.connect(url, autocommit=True) as connection:
                    connection.execute("VACUUM ANALYZE")
                    connection.execute("CHECKPOINT")
                    start = time.perf_counter()
                    connection.execute(_DRAIN.replace("%(batch)s", str(batch)))
                    seconds = time.perf_counter() - start
                    left = connection.execute(
                        "SELECT count(*) FROM tasks WHERE status <> 'completed'"
                    ).fetchone()
                assert left == (0,), f"{left} tasks not completed"
                print(f"batch {batch:>5}: {args.tasks / seconds:,.0f} tasks/s claimed and settled")


if __name__ == "__main__":
    main()
