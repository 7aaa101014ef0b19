"""Files written under one output directory, never outside it."""

from __future__ import annotations

import os
from pathlib import Path

from application.files import is_plain_file_name
from domain.errors import PermanentTaskError


class LocalFileStore:
    """A `FileStore` over a local directory, created on first write."""

    def __init__(self, *, root: Path) -> None:
        self._root = root.resolve()

    def write(self, name: str, content: bytes) -> str:
        path = self._path(name)
        self._root.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half a file.
        partial = path.with_name(f".{path.name}.partial")
        partial.write_bytes(content)
        os.replace(partial, path)
        return str(path)

    def open_path(self, name: str) -> str:
        path = self._path(name)
        if not path.is_file():
            raise FileNotFoundError(name)
        return str(path)

    def _path(self, name: str) -> Path:
        if not is_plain_file_name(name):
            raise PermanentTaskError(f"file name {name!r} is not a plain file name")
        path = (self._root / name).resolve()
        if path.parent != self._root:
            raise PermanentTaskError(f"file name {name!r} escapes the output directory")
        return path
