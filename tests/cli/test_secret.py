"""The signing secret: configured, or generated once and kept private on disk."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from entrypoints.secret import load_or_create_secret, signing_secret
from entrypoints.settings import Settings, SettingsError


def test_a_configured_secret_is_used_as_is(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"TASKSPOOL_DATA_DIR": str(tmp_path), "TASKSPOOL_SECRET": "k" * 40}
    )

    assert signing_secret(settings) == "k" * 40
    assert not (tmp_path / "secret").exists()


def test_without_one_a_secret_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings.from_env({"TASKSPOOL_DATA_DIR": str(tmp_path / "data")})

    first = signing_secret(settings)
    second = signing_secret(settings)

    assert first == second
    assert len(first) >= 32
    assert stat.S_IMODE((tmp_path / "data" / "secret").stat().st_mode) == 0o600


def test_each_data_directory_gets_its_own_secret(tmp_path: Path) -> None:
    assert load_or_create_secret(tmp_path / "a" / "secret") != load_or_create_secret(
        tmp_path / "b" / "secret"
    )


def test_processes_starting_together_agree_on_one_secret(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    results: list[str] = []
    start = threading.Barrier(8)

    def create() -> None:
        start.wait()
        results.append(load_or_create_secret(path))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(results)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]


def test_a_secret_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    load_or_create_secret(path)
    os.chmod(path, 0o644)

    with pytest.raises(SettingsError, match="readable by others"):
        load_or_create_secret(path)
