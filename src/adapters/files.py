"""Files written under one output directory, in a folder per owner, never outside it."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from application.files import file_name_problem
from domain.errors import PermanentTaskError

#: Owner names used as folder names as they are; any other name gets a hashed folder.
_PLAIN_OWNER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


def owner_folder(owner: str) -> str:
    """The folder name for `owner`: the name itself when it is plain, else `~` + a hash.

    `~` never starts a plain name, so a hashed folder cannot collide with a plain one.
    """
    if _PLAIN_OWNER.fullmatch(owner):
        return owner
    digest = hashlib.sha256(owner.encode("utf-8", "surrogatepass")).hexdigest()
    return "~" + digest[:32]


class LocalFileStore:
    """A `FileStore` over a local directory, created on first write."""

    def __init__(self, *, root: Path) -> None:
        self._root = root.resolve()

    def write(self, name: str, content: bytes, *, owner: str) -> str:
        path = self._path(name, owner)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write a private temporary file, then rename: a reader never sees half a
        # file, and two writers of one name never share a temporary file.
        handle, partial = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".partial")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(content)
            os.chmod(partial, 0o644)
            os.replace(partial, path)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        return str(path)

    def open_path(self, name: str, *, owner: str) -> str:
        path = self._path(name, owner)
        if not path.is_file():
            raise FileNotFoundError(name)
        return str(path)

    def _path(self, name: str, owner: str) -> Path:
        problem = file_name_problem(name)
        if problem is not None:
            raise PermanentTaskError(f"file name {name!r} {problem}")
        folder = self._root / owner_folder(owner)
        path = (folder / name).resolve()
        if path.parent != folder.resolve():
            raise PermanentTaskError(f"file name {name!r} escapes the output directory")
        return path
