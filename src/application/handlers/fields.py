"""Reading typed fields out of JSON payloads, with errors that name the field.

The same readers check a request body before it is queued (InvalidRequest, a 400)
and a stored payload when a worker runs it (`permanent_on_bad_payload` turns the
same error into a PermanentTaskError, because retrying a bad payload cannot help).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from application.errors import InvalidRequest
from domain.errors import PermanentTaskError

#: Longest free-text field accepted in a payload.
MAX_TEXT_CHARS = 10_000


@contextmanager
def permanent_on_bad_payload() -> Iterator[None]:
    """Raise PermanentTaskError for an InvalidRequest in the block."""
    try:
        yield
    except InvalidRequest as exc:
        raise PermanentTaskError(f"invalid payload: {exc}") from exc


def optional_text(
    payload: Mapping[str, Any], key: str, *, max_chars: int = MAX_TEXT_CHARS, one_line: bool = True
) -> str | None:
    """`payload[key]` as a string, or None when absent or null."""
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"{key} must be a string", field=key)
    if len(value) > max_chars:
        raise InvalidRequest(f"{key} is longer than {max_chars} characters", field=key)
    if one_line and ("\n" in value or "\r" in value):
        raise InvalidRequest(f"{key} must be a single line", field=key)
    return value


def required_text(
    payload: Mapping[str, Any], key: str, *, max_chars: int = MAX_TEXT_CHARS, one_line: bool = True
) -> str:
    """`payload[key]` as a non-blank string."""
    value = optional_text(payload, key, max_chars=max_chars, one_line=one_line)
    if value is None or not value.strip():
        raise InvalidRequest(f"{key} is required", field=key)
    return value


def optional_bool(payload: Mapping[str, Any], key: str) -> bool | None:
    value = payload.get(key)
    if value is not None and not isinstance(value, bool):
        raise InvalidRequest(f"{key} must be true or false", field=key)
    return value


def optional_int(payload: Mapping[str, Any], key: str, *, low: int, high: int) -> int | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRequest(f"{key} must be a whole number from {low} to {high}", field=key)
    return value


def text_list(payload: Mapping[str, Any], key: str, *, max_items: int) -> list[str]:
    """`payload[key]` as a list of strings (absent means empty)."""
    value = payload.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidRequest(f"{key} must be a list of strings", field=key)
    if len(value) > max_items:
        raise InvalidRequest(f"{key} holds more than {max_items} items", field=key)
    return value


def task_id(payload: Mapping[str, Any], key: str) -> UUID:
    """`payload[key]` as a task id."""
    value = payload.get(key)
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    raise InvalidRequest(f"{key} must be a task id (a UUID)", field=key)
