"""What the scripts that study a single drain share: which subject, throwaway storage."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.cluster import running_cluster
from bench.subjects import Subject

#: The subjects a single-drain script can study: taskspool's, on either store.
OURS = ("taskspool-pg", "taskspool-sqlite")


def add_subject_option(parser: argparse.ArgumentParser) -> None:
    """`--subject`, one of `OURS` (default: PostgreSQL)."""
    parser.add_argument("--subject", default=OURS[0], choices=OURS)


@contextmanager
def scratch_url(subject: Subject, name: str) -> Iterator[str]:
    """A URL for `subject` to fill: a SQLite file in a temp dir, or a database on a
    throwaway PostgreSQL cluster; removed afterwards either way."""
    if subject.storage == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix=f"taskspool-{name}-"))
        try:
            yield f"sqlite:///{tmp / 'tasks.db'}"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    else:
        with running_cluster() as cluster, cluster.database(name) as url:
            yield url
