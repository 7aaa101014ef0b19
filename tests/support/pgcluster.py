"""A throwaway PostgreSQL server for tests, or the one `TEST_DATABASE_URL` names.

The cluster lives in a temporary directory, listens on a free local port, runs
with fsync off (its data is thrown away), and is removed on `stop()`. PostgreSQL
refuses to run as root, so as root the server runs as the `postgres` user.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

_BIN_GLOB = "/usr/lib/postgresql/*/bin"
_SERVER_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """Neither PostgreSQL binaries nor TEST_DATABASE_URL: the tests cannot run."""


def find_bindir() -> Path | None:
    """The newest local PostgreSQL server binaries, if any."""
    candidates = sorted(glob.glob(_BIN_GLOB), key=lambda p: int(Path(p).parent.name), reverse=True)
    for candidate in candidates:
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


class PostgresCluster:
    """Starts (or borrows) a server and hands out fresh databases on it."""

    def __init__(self, *, url: str | None = None, bindir: Path | None = None) -> None:
        self._external_url = url
        self._bindir = bindir
        self._root: Path | None = None
        self._port = 0
        self._databases: list[str] = []

    @classmethod
    def from_environment(cls) -> PostgresCluster:
        """The server TEST_DATABASE_URL names, else a local throwaway cluster."""
        url = os.environ.get("TEST_DATABASE_URL")
        if url:
            return cls(url=url)
        bindir = find_bindir()
        if bindir is None:
            raise PostgresUnavailable(
                "PostgreSQL tests need a server: install PostgreSQL (initdb and pg_ctl under "
                f"{_BIN_GLOB}) or set TEST_DATABASE_URL=postgresql://user:pass@host:port/db"
            )
        return cls(bindir=bindir)

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        if self._external_url is not None:
            with self._admin() as connection:
                connection.execute("SELECT 1")
            return
        # Stop the server even if the test run ends without calling stop().
        atexit.register(self.stop)
        try:
            self._start_local()
        except BaseException:
            self.stop()
            raise

    def _start_local(self) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="taskspool-pg-"))
        self._root.chmod(0o755)
        data = self._root / "data"
        self._port = _free_port()
        self._chown(self._root)
        self._run(
            "initdb",
            "-D",
            str(data),
            "-U",
            _SERVER_USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C",
        )
        options = " ".join(
            [
                f"-p {self._port}",
                f"-k {self._root}",
                "-c listen_addresses=127.0.0.1",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            ]
        )
        self._run(
            "pg_ctl",
            "-D",
            str(data),
            "-l",
            str(self._root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        self._wait_ready()

    def stop(self) -> None:
        if self._external_url is not None:
            for name in reversed(self._databases):
                self.drop_database(name)
            return
        if self._root is None:
            return
        with contextlib.suppress(RuntimeError):
            self._run("pg_ctl", "-D", str(self._root / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self._root, ignore_errors=True)
        self._root = None

    # -- databases ---------------------------------------------------------------

    def url(self, database: str | None = None) -> str:
        """An SQLAlchemy URL (psycopg 3) for `database` on this server."""
        base = make_url(self._external_url or self._local_url()).set(
            drivername="postgresql+psycopg"
        )
        if database is not None:
            base = base.set(database=database)
        return base.render_as_string(hide_password=False)

    def create_database(self, *, template: str | None = None, name: str | None = None) -> str:
        """Create a new database (a copy of `template`, if given) and return its name."""
        name = name or f"taskspool_test_{uuid.uuid4().hex[:12]}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
        with self._admin() as connection:
            connection.execute(statement)
        self._databases.append(name)
        return name

    def drop_database(self, name: str) -> None:
        """Drop `name`, disconnecting whoever is still connected."""
        statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        with self._admin() as connection:
            connection.execute(statement)
        if name in self._databases:
            self._databases.remove(name)

    # -- internals ---------------------------------------------------------------

    def _local_url(self) -> str:
        return f"postgresql://{_SERVER_USER}@127.0.0.1:{self._port}/postgres"

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        url = make_url(self.url()).set(drivername="postgresql")
        return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                with self._admin() as connection:
                    connection.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _run(self, tool: str, *args: str) -> None:
        assert self._bindir is not None
        command = [str(self._bindir / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", _SERVER_USER, "--", *command]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise RuntimeError(
                f"{tool} failed (exit {completed.returncode}): {completed.stderr.strip()}"
                f"{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        log = self._root / "server.log" if self._root else None
        if log is None or not log.exists():
            return ""
        return "\nserver log:\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            user = pwd.getpwnam(_SERVER_USER)
            os.chown(path, user.pw_uid, user.pw_gid)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
