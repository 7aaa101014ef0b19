"""A throwaway PostgreSQL cluster for one benchmark run, removed afterwards.

Durability stays on (fsync, synchronous_commit, full_page_writes): this is a
benchmark of durable queues, and every subject pays the same commit cost.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

#: Settings every subject runs against; the durable defaults, stated so nobody wonders.
SERVER_SETTINGS = {
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "listen_addresses": "127.0.0.1",
    "max_connections": "300",
}


def pg_bindir() -> Path:
    """The newest PostgreSQL server binaries installed under /usr/lib/postgresql."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name),
    )
    if not candidates:
        raise RuntimeError("no PostgreSQL server found under /usr/lib/postgresql/*/bin")
    return Path(candidates[-1]).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """A running cluster: its admin URL and a way to make fresh databases."""

    def __init__(self, *, port: int, bindir: Path) -> None:
        self.port = port
        self.bindir = bindir

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    @property
    def version(self) -> str:
        with psycopg.connect(self.url()) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        assert row is not None
        return str(row[0])

    @contextmanager
    def database(self, name: str) -> Iterator[str]:
        """A fresh, empty database for one subject and workload; dropped afterwards."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield self.url(name)
        finally:
            with psycopg.connect(self.url(), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _as_postgres(argv: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; drop to the postgres user when we are root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


@contextmanager
def running_cluster() -> Iterator[Cluster]:
    """initdb + pg_ctl start in a temp dir on a free port; stop and remove on exit."""
    bindir = pg_bindir()
    root = Path(tempfile.mkdtemp(prefix="taskspool-bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres", group="postgres")
    data = root / "data"
    port = free_port()
    options = " ".join(f"-c {key}={value}" for key, value in SERVER_SETTINGS.items())
    try:
        subprocess.run(
            _as_postgres(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                ]
            ),
            check=True,
            capture_output=True,
        )
        subprocess.run(
            _as_postgres(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(root / "server.log"),
                    "-o",
                    f"-p {port} -k {root} {options}",
                    "-w",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        cluster = Cluster(port=port, bindir=bindir)
        _wait_ready(cluster)
        yield cluster
    finally:
        if data.exists():
            subprocess.run(
                _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                check=False,
                capture_output=True,
            )
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(cluster: Cluster, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(cluster.url(), connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
