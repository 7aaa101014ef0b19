"""The token-signing secret: TASKSPOOL_SECRET, or one generated once and kept on disk."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from entrypoints.settings import MIN_SECRET_CHARS, Settings, SettingsError

SECRET_FILE_MODE = 0o600


def signing_secret(settings: Settings) -> str:
    """The configured secret, or the one kept in `<data dir>/secret`."""
    if settings.secret is not None:
        return settings.secret
    return load_or_create_secret(settings.secret_file)


def load_or_create_secret(path: Path) -> str:
    """Read the secret at `path`, creating it (mode 0600) if absent.

    Creation is write-to-temporary then hard-link, so processes starting together
    agree on one secret and none ever reads a half-written file.
    """
    if not path.exists():
        _create(path)
    return _read(path)


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_FILE_MODE)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(secrets.token_urlsafe(48) + "\n")
        # If another process won the race, its secret is the one.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _read(path: Path) -> str:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SettingsError(
            f"secret file {path} is readable by others (mode {mode:o}); "
            f"run chmod 600 on it or set TASKSPOOL_SECRET"
        )
    secret = path.read_text(encoding="utf-8").strip()
    if len(secret) < MIN_SECRET_CHARS:
        raise SettingsError(
            f"secret file {path} holds fewer than {MIN_SECRET_CHARS} characters; "
            "delete it to have a new one generated"
        )
    return secret
