"""Facts about the machine and software a run was measured on, for the results file."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

LIBRARIES = ("taskspool", "procrastinate", "pgqueuer", "asyncpg", "psycopg", "sqlalchemy")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def facts(*, postgres_version: str) -> dict[str, str]:
    import sqlite3

    return {
        "CPU": cpu_model(),
        "cores (nproc)": str(os.cpu_count()),
        "memory": f"{memory_gib():.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "PostgreSQL": postgres_version + " (fsync=on, synchronous_commit=on, same host, TCP)",
        "SQLite": sqlite3.sqlite_version,
        **{name: version(name) for name in LIBRARIES},
    }
