"""The port for files that handlers produce (CSV exports)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


# Runtime-checkable because the HTTP layer injects it, and Litestar checks the type
# of every injected value.
@runtime_checkable
class FileStore(Protocol):
    """A directory that handlers write into and nothing escapes; each owner has a folder
    of their own, so one user's export can never replace or reveal another's."""

    def write(self, name: str, content: bytes, *, owner: str) -> str:
        """Write `content` as `name` in `owner`'s folder; return its absolute path.

        Raises PermanentTaskError if `name` is not a plain file name.
        """

    def open_path(self, name: str, *, owner: str) -> str:
        """Absolute path of `owner`'s stored file `name`; raises FileNotFoundError if missing."""


#: Longest file name we write; most filesystems stop at 255 bytes.
MAX_NAME_BYTES = 200


def file_name_problem(name: str) -> str | None:
    """What keeps `name` from being a plain file name that stays inside a directory,
    as a phrase that completes "filename ...", or None if it is one."""
    if not name:
        return "is empty"
    if "/" in name or "\\" in name:
        return "contains a path separator (/ or \\); give a file name, not a path"
    if name.startswith("."):
        return "starts with a dot"
    if "\x00" in name:
        return "contains a NUL character (\\u0000)"
    size = len(name.encode("utf-8", "replace"))
    if size > MAX_NAME_BYTES:
        return f"is {size} bytes long as UTF-8; the limit is {MAX_NAME_BYTES} bytes"
    return None


def is_plain_file_name(name: str) -> bool:
    """True for a name that stays inside a directory: no separators, no dot-files, bounded."""
    return file_name_problem(name) is None
