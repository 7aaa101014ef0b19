"""Settings.from_env: defaults, parsing, and one readable error naming the variable."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from entrypoints.settings import Settings, SettingsError, StorageKind


def test_defaults_keep_everything_in_the_data_directory() -> None:
    settings = Settings.from_env({})

    assert settings.data_dir == Path(".taskspool")
    assert settings.database_url == "sqlite:///.taskspool/taskspool.db"
    assert settings.storage is StorageKind.SQLITE
    assert settings.csv_output_dir == Path(".taskspool/csv")
    assert settings.secret is None
    assert settings.secret_file == Path(".taskspool/secret")
    assert settings.auto_migrate is True


def test_defaults_for_the_worker_and_retries() -> None:
    settings = Settings.from_env({})

    assert settings.poll_interval == timedelta(seconds=5)
    assert (settings.concurrency, settings.batch_size) == (4, 4)
    assert settings.stale_after == timedelta(minutes=5)
    assert (settings.backoff_base, settings.backoff_cap) == (
        timedelta(seconds=5),
        timedelta(hours=1),
    )
    assert settings.shutdown_grace == timedelta(seconds=30)
    assert settings.log_level == "INFO"


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "TASKSPOOL_DATA_DIR": "/srv/spool",
            "DATABASE_URL": "postgresql+psycopg://app:pw@db/spool",
            "TASKSPOOL_SECRET": "s" * 32,
            "WORKER_POLL_INTERVAL_MS": "250",
            "WORKER_CONCURRENCY": "8",
            "WORKER_BATCH_SIZE": "16",
            "STALE_AFTER_SECONDS": "60",
            "BACKOFF_BASE_SECONDS": "0.5",
            "BACKOFF_CAP_SECONDS": "30",
            "SHUTDOWN_GRACE_SECONDS": "0",
            "CSV_OUTPUT_DIR": "/srv/exports",
            "TASKSPOOL_AUTO_MIGRATE": "yes",
            "LOG_LEVEL": "debug",
        }
    )

    assert settings.data_dir == Path("/srv/spool")
    assert settings.storage is StorageKind.POSTGRES
    assert settings.secret == "s" * 32
    assert settings.poll_interval == timedelta(milliseconds=250)
    assert (settings.concurrency, settings.batch_size) == (8, 16)
    assert settings.stale_after == timedelta(seconds=60)
    assert settings.backoff_base == timedelta(seconds=0.5)
    assert settings.backoff_cap == timedelta(seconds=30)
    assert settings.shutdown_grace == timedelta(0)
    assert settings.csv_output_dir == Path("/srv/exports")
    assert settings.auto_migrate is True
    assert settings.log_level == "DEBUG"


def test_the_default_database_follows_the_data_directory() -> None:
    settings = Settings.from_env({"TASKSPOOL_DATA_DIR": "/srv/spool"})

    assert settings.database_url == "sqlite:////srv/spool/taskspool.db"
    assert settings.csv_output_dir == Path("/srv/spool/csv")


@pytest.mark.parametrize(
    ("url", "kind", "auto_migrate"),
    [
        ("sqlite:////tmp/x.db", StorageKind.SQLITE, True),
        ("postgresql://u@h/db", StorageKind.POSTGRES, False),
        ("postgresql+psycopg://u@h/db", StorageKind.POSTGRES, False),
        ("memory://", StorageKind.MEMORY, True),
    ],
)
def test_database_url_selects_the_store_and_the_migration_default(
    url: str, kind: StorageKind, auto_migrate: bool
) -> None:
    settings = Settings.from_env({"DATABASE_URL": url})

    assert (settings.storage, settings.auto_migrate) == (kind, auto_migrate)


def test_empty_values_count_as_unset() -> None:
    assert Settings.from_env({"WORKER_CONCURRENCY": "", "TASKSPOOL_SECRET": " "}) == (
        Settings.from_env({})
    )


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("WORKER_CONCURRENCY", "four", "whole number"),
        ("WORKER_CONCURRENCY", "0", "between 1 and"),
        ("WORKER_BATCH_SIZE", "-1", "between 1 and"),
        ("WORKER_POLL_INTERVAL_MS", "1.5", "whole number"),
        ("STALE_AFTER_SECONDS", "0", "more than 0"),
        ("BACKOFF_BASE_SECONDS", "soon", "number of seconds"),
        ("BACKOFF_CAP_SECONDS", "inf", "at most"),
        ("SHUTDOWN_GRACE_SECONDS", "-1", "0 or more"),
        ("TASKSPOOL_AUTO_MIGRATE", "maybe", "true/false"),
        ("LOG_LEVEL", "LOUD", "DEBUG, INFO"),
        ("TASKSPOOL_SECRET", "short", "at least 32 characters"),
        ("DATABASE_URL", "mysql://u@h/db", "must start with"),
        ("DATABASE_URL", "sqlite://", "needs a file path"),
        ("DATABASE_URL", "not a url", "must start with"),
    ],
)
def test_a_bad_value_names_the_variable_and_why(variable: str, value: str, reason: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({variable: value})

    message = str(raised.value)
    assert message.startswith(variable)
    assert reason in message
    assert "\n" not in message


def test_a_cap_below_the_base_is_refused() -> None:
    with pytest.raises(SettingsError, match="BACKOFF_CAP_SECONDS must not be below"):
        Settings.from_env({"BACKOFF_BASE_SECONDS": "10", "BACKOFF_CAP_SECONDS": "5"})


def test_database_passwords_stay_out_of_error_messages() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"DATABASE_URL": "mysql://app:hunter2@db/spool"})

    assert "hunter2" not in str(raised.value)


def test_a_bad_secret_is_not_echoed() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"TASKSPOOL_SECRET": "tooshort"})

    assert "tooshort" not in str(raised.value)
