"""Configuration from environment variables, read once at start-up and checked whole."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

from attrs import frozen

DEFAULT_DATA_DIR = "./.taskspool/"
#: Shortest accepted TASKSPOOL_SECRET: HS256 keys shorter than the hash are weak.
MIN_SECRET_CHARS = 32
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable and why."""


class StorageKind(StrEnum):
    """Which task store DATABASE_URL selects."""

    MEMORY = "memory"
    SQLITE = "sqlite"
    POSTGRES = "postgres"


_SCHEMES: Mapping[str, StorageKind] = {
    "memory": StorageKind.MEMORY,
    "sqlite": StorageKind.SQLITE,
    "postgresql": StorageKind.POSTGRES,
    "postgresql+psycopg": StorageKind.POSTGRES,
}


@frozen(kw_only=True)
class Settings:
    """Everything the entrypoints need to build the service; see README's table."""

    data_dir: Path
    database_url: str
    storage: StorageKind
    #: None means: use the secret kept in `<data dir>/secret`, creating it once.
    secret: str | None
    poll_interval: timedelta
    concurrency: int
    batch_size: int
    stale_after: timedelta
    backoff_base: timedelta
    backoff_cap: timedelta
    shutdown_grace: timedelta
    csv_output_dir: Path
    auto_migrate: bool
    log_level: str

    @property
    def secret_file(self) -> Path:
        return self.data_dir / "secret"

    @classmethod
    def from_env(cls, mapping: Mapping[str, str]) -> Settings:
        """Settings from `mapping` (usually os.environ); raises SettingsError on the first bad one.

        Empty values count as unset. Reads nothing but `mapping`.
        """
        env = _Env(mapping)
        data_dir = Path(env.get("TASKSPOOL_DATA_DIR") or DEFAULT_DATA_DIR)
        database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'taskspool.db'}"
        storage = _storage_kind(database_url)
        concurrency = env.integer("WORKER_CONCURRENCY", default=4, minimum=1, maximum=1000)
        backoff_base = env.seconds("BACKOFF_BASE_SECONDS", default=5)
        backoff_cap = env.seconds("BACKOFF_CAP_SECONDS", default=3600)
        if backoff_cap < backoff_base:
            raise SettingsError(
                "BACKOFF_CAP_SECONDS must not be below BACKOFF_BASE_SECONDS "
                f"({backoff_cap.total_seconds():g} < {backoff_base.total_seconds():g})"
            )
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            storage=storage,
            secret=_secret(env.get("TASKSPOOL_SECRET")),
            poll_interval=timedelta(
                milliseconds=env.integer("WORKER_POLL_INTERVAL_MS", default=5000, minimum=1)
            ),
            concurrency=concurrency,
            batch_size=env.integer(
                "WORKER_BATCH_SIZE", default=concurrency, minimum=1, maximum=1000
            ),
            stale_after=env.seconds("STALE_AFTER_SECONDS", default=300),
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            shutdown_grace=env.seconds("SHUTDOWN_GRACE_SECONDS", default=30, allow_zero=True),
            csv_output_dir=Path(env.get("CSV_OUTPUT_DIR") or data_dir / "csv"),
            auto_migrate=env.flag(
                "TASKSPOOL_AUTO_MIGRATE", default=storage is not StorageKind.POSTGRES
            ),
            log_level=env.choice("LOG_LEVEL", LOG_LEVELS, default="INFO"),
        )


class _Env:
    """Typed reads of one mapping, each failure naming its variable."""

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self._mapping = mapping

    def get(self, name: str) -> str | None:
        value = self._mapping.get(name, "").strip()
        return value or None

    def integer(self, name: str, *, default: int, minimum: int, maximum: int = 10**9) -> int:
        raw = self.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
        if not minimum <= value <= maximum:
            raise SettingsError(f"{name} must be between {minimum} and {maximum}, got {raw!r}")
        return value

    def seconds(self, name: str, *, default: float, allow_zero: bool = False) -> timedelta:
        raw = self.get(name)
        if raw is None:
            return timedelta(seconds=default)
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
        if not (value >= 0 if allow_zero else value > 0) or value > 10**9:
            bound = "0 or more" if allow_zero else "more than 0"
            raise SettingsError(f"{name} must be {bound} seconds (at most 1e9), got {raw!r}")
        return timedelta(seconds=value)

    def flag(self, name: str, *, default: bool) -> bool:
        raw = self.get(name)
        if raw is None:
            return default
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise SettingsError(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}")

    def choice(self, name: str, choices: tuple[str, ...], *, default: str) -> str:
        raw = self.get(name)
        if raw is None:
            return default
        if raw.upper() not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(choices)}; got {raw!r}")
        return raw.upper()


def _storage_kind(url: str) -> StorageKind:
    scheme, separator, rest = url.partition("://")
    kind = _SCHEMES.get(scheme.lower())
    if not separator or kind is None:
        raise SettingsError(
            "DATABASE_URL must start with sqlite:///, postgresql://, postgresql+psycopg:// "
            f"or memory://; got {_redacted(url)!r}"
        )
    if kind is StorageKind.SQLITE and (not rest.startswith("/") or rest == "/"):
        raise SettingsError(
            f"DATABASE_URL for SQLite needs a file path, as in sqlite:///path/to/file.db; "
            f"got {url!r}"
        )
    return kind


def _secret(value: str | None) -> str | None:
    if value is not None and len(value) < MIN_SECRET_CHARS:
        raise SettingsError(
            f"TASKSPOOL_SECRET must be at least {MIN_SECRET_CHARS} characters long "
            f"(it has {len(value)}); unset it to use a generated one"
        )
    return value


def _redacted(url: str) -> str:
    """The URL without its password, for error messages."""
    scheme, separator, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}{separator}{user}:***@{host}"
