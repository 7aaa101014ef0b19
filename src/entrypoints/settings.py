"""Configuration from environment variables, read once at start-up and checked whole."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

from attrs import field, frozen

from adapters.smtp import SmtpConfig
from application.errors import InvalidRequest
from application.mail import check_address

DEFAULT_DATA_DIR = "./.taskspool/"
DEFAULT_MAIL_FROM = "taskspool@localhost.localdomain"
#: The source name JOB_FEED_URL is fetched under.
DEFAULT_FEED_SOURCE = "default"
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
    #: The default job feed, fetched as source `default`; None (with no JOB_FEED_SOURCES)
    #: means the sample feed shipped in the package.
    job_feed_url: str | None = None
    #: More feeds a fetch may name, as (name, url) pairs, from JOB_FEED_SOURCES.
    job_feed_sources: tuple[tuple[str, str], ...] = ()
    job_feed_timeout: timedelta = timedelta(seconds=10)
    #: None means: write mail as .eml files to `mail_outbox_dir`. May hold a password.
    smtp_url: str | None = field(default=None, repr=False)
    #: CAs (PEM) to verify the SMTP server by instead of the system's; None: the system's.
    smtp_ca_file: Path | None = None
    mail_from: str = DEFAULT_MAIL_FROM
    #: None means `<data dir>/outbox`.
    mail_outbox_dir: Path | None = None

    @property
    def secret_file(self) -> Path:
        return self.data_dir / "secret"

    @property
    def outbox_dir(self) -> Path:
        return self.mail_outbox_dir or self.data_dir / "outbox"

    @property
    def job_feeds(self) -> dict[str, str]:
        """Every configured feed URL by source name, the default first; empty for the sample."""
        feeds = {DEFAULT_FEED_SOURCE: self.job_feed_url} if self.job_feed_url else {}
        feeds.update(self.job_feed_sources)
        return feeds

    @classmethod
    def from_env(cls, mapping: Mapping[str, str]) -> Settings:
        """Settings from `mapping` (usually os.environ); raises SettingsError on the first bad one.

        Empty values count as unset. Reads nothing but `mapping`.
        """
        env = _Env(mapping)
        data_dir = Path(env.get("TASKSPOOL_DATA_DIR") or DEFAULT_DATA_DIR)
        database_url = env.get("DATABASE_URL") or default_database_url(data_dir)
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
            job_feed_url=_feed_url("JOB_FEED_URL", env.get("JOB_FEED_URL")),
            job_feed_sources=_feed_sources(env.get("JOB_FEED_SOURCES")),
            job_feed_timeout=env.seconds("JOB_FEED_TIMEOUT_SECONDS", default=10),
            smtp_url=_smtp_url(env.get("SMTP_URL")),
            smtp_ca_file=_smtp_ca_file(env.get("SMTP_CA_FILE")),
            mail_from=_mail_from(env.get("MAIL_FROM") or DEFAULT_MAIL_FROM),
            mail_outbox_dir=Path(env.get("MAIL_OUTBOX_DIR") or data_dir / "outbox"),
        )


def default_database_url(data_dir: Path) -> str:
    """The SQLite file in the data directory, used when DATABASE_URL is unset."""
    return f"sqlite:///{data_dir / 'taskspool.db'}"


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


_SOURCE_NAME = re.compile(r"[A-Za-z0-9_-]{1,50}")


def _feed_url(name: str, value: str | None) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must be an http:// or https:// URL")
    return value


def _feed_sources(value: str | None) -> tuple[tuple[str, str], ...]:
    """`name=url,name2=url2` as pairs; names are letters, digits, `_` and `-`."""
    if value is None:
        return ()
    pairs: list[tuple[str, str]] = []
    for item in value.split(","):
        name, equals, url = (part.strip() for part in item.partition("="))
        if not equals or not _SOURCE_NAME.fullmatch(name) or not url:
            raise SettingsError(
                "JOB_FEED_SOURCES must be name=url pairs separated by commas, "
                "each name 1-50 letters, digits, _ or -"
            )
        if name == DEFAULT_FEED_SOURCE or name in dict(pairs):
            raise SettingsError(
                f"JOB_FEED_SOURCES names {name!r} twice or reuses {DEFAULT_FEED_SOURCE!r}"
            )
        _feed_url(f"JOB_FEED_SOURCES ({name})", url)
        pairs.append((name, url))
    return tuple(pairs)


def _smtp_url(value: str | None) -> str | None:
    if value is not None:
        try:
            SmtpConfig.from_url(value)
        except ValueError as exc:
            raise SettingsError(f"SMTP_URL: {exc}") from None
    return value


def _smtp_ca_file(value: str | None) -> Path | None:
    if not value:
        return None
    path = Path(value)
    if not path.is_file():
        raise SettingsError(f"SMTP_CA_FILE: {value} is not a file")
    return path


def _mail_from(value: str) -> str:
    try:
        return check_address(value, field="MAIL_FROM")
    except InvalidRequest:
        raise SettingsError(f"MAIL_FROM must be a plain e-mail address, got {value!r}") from None


def _redacted(url: str) -> str:
    """The URL without its password, for error messages."""
    scheme, separator, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}{separator}{user}:***@{host}"
