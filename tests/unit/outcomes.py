"""Handler outcomes, from success to the nastiest exceptions, and a handler that plays them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from domain.errors import PermanentTaskError
from domain.task import JsonObject, Task


class UnprintableError(Exception):
    """An exception whose message cannot even be rendered."""

    def __str__(self) -> str:
        raise RuntimeError("__str__ is broken too")


class BytesMessageError(Exception):
    """An exception whose `__str__` returns bytes that are not valid UTF-8."""

    def __str__(self) -> Any:
        return b"\xff\xfe\x00 not text"


def _raise(exc: BaseException) -> Callable[[Task], JsonObject]:
    def handler(task: Task) -> JsonObject:
        raise exc

    return handler


#: Each outcome a rule may choose for a task's next attempt.
OUTCOMES: dict[str, Callable[[Task], JsonObject]] = {
    "success": lambda task: {"echo": task.payload},
    "error": _raise(RuntimeError("boom")),
    "unprintable": _raise(UnprintableError()),
    "huge": _raise(RuntimeError("x" * 1_000_000)),
    "bytes": _raise(ValueError(b"\xff\xfe\x00")),
    "bytes_str": _raise(BytesMessageError()),
    "surrogate": _raise(ValueError(b"caf\xe9".decode("utf-8", "surrogateescape"))),
    "nul": _raise(RuntimeError("nul\x00inside")),
    "permanent": _raise(PermanentTaskError("bad input")),
}
FAILURES = sorted(set(OUTCOMES) - {"success", "permanent"})


class ScriptedHandler:
    """Plays, for each task, the outcome the test chose for it (success by default)."""

    def __init__(self) -> None:
        self.plan: dict[UUID, str] = {}
        self.calls: list[UUID] = []

    def __call__(self, task: Task) -> JsonObject:
        self.calls.append(task.id)
        return OUTCOMES[self.plan.get(task.id, "success")](task)
