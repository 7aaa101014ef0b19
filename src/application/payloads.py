"""Rules every stored JSON document obeys, so that all three stores accept the same data.

PostgreSQL's jsonb refuses the NUL character, so we refuse it everywhere instead of
storing it in some stores and failing in others; sizes are bounded so that one task
cannot bloat the table.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from application.errors import InvalidRequest, PayloadTooLarge

#: Largest accepted task payload, as compact UTF-8 JSON.
MAX_PAYLOAD_BYTES = 1_048_576
#: Largest handler result kept on a task; a bigger result fails the task.
MAX_RESULT_BYTES = 262_144
#: Deepest nesting accepted; deeper documents are refused rather than risk recursion limits.
MAX_DEPTH = 64


#: A JSON string, escapes included; its brackets do not nest anything.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
#: Every byte but the four brackets, to delete before counting depth.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def check_json_nesting(raw: bytes | str, *, what: str, field: str | None) -> None:
    """Refuse JSON text nested deeper than MAX_DEPTH, before any decoder recurses into it.

    Decoders recurse once per level, so a document thousands of levels deep exhausts
    the interpreter's recursion limit; counting brackets outside strings needs none.
    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    brackets = _JSON_STRING.sub(b"", data).translate(None, delete=_NOT_BRACKETS)
    depth = max(accumulate(_DEPTH_STEP[b] for b in brackets), default=0)
    if depth > MAX_DEPTH + 1:
        raise InvalidRequest(
            f"{what} is nested too deeply: more than {MAX_DEPTH} levels", field=field
        )


#: A \\u escape of a UTF-16 surrogate, paired or not; worth a closer look when present.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def check_json_text(raw: bytes, *, what: str) -> None:
    """Refuse JSON text that is empty, nested too deeply, or escapes an unpaired surrogate
    (which no UTF-8 text can hold), each with a message saying so; other faults are left
    to the decoder. `what` names the text in messages, as in "the request body"."""
    if not raw.strip():
        raise InvalidRequest(f"{what} is empty; a JSON object is required")
    check_json_nesting(raw, what=what, field=None)
    if not _SURROGATE_ESCAPE.search(raw):
        return
    try:
        # The standard decoder keeps lone surrogates as they are, so they can be found.
        document = json.loads(raw)
    except ValueError:
        return
    if _has_unpaired_surrogate(document):
        raise InvalidRequest(
            f"{what} is not valid UTF-8 JSON: it contains an unpaired surrogate "
            "(a \\ud800-\\udfff escape without its pair)"
        )


def _has_unpaired_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(
            _has_unpaired_surrogate(k) or _has_unpaired_surrogate(v) for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_has_unpaired_surrogate(item) for item in value)
    return False


def encoded_size(document: Any) -> int:
    """Bytes of `document` as compact UTF-8 JSON; raises InvalidRequest if it is not JSON."""
    try:
        text = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"not a JSON document: {exc}", field="payload") from exc
    return len(text.encode("utf-8", "surrogatepass"))


def check_document(document: Any, *, field: str, limit: int) -> None:
    """Refuse `document` unless it is a JSON object storable everywhere, within `limit` bytes."""
    if not isinstance(document, dict):
        raise InvalidRequest(f"{field} must be a JSON object", field=field)
    _check_values(document, field=field, depth=0)
    size = encoded_size(document)
    if size > limit:
        raise PayloadTooLarge(f"{field} is {size} bytes; the limit is {limit}")


def _check_values(value: Any, *, field: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise InvalidRequest(f"{field} is nested deeper than {MAX_DEPTH} levels", field=field)
    if isinstance(value, str):
        _check_text(value, field=field)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidRequest(f"{field} has a non-string key", field=field)
            _check_text(key, field=field)
            _check_values(item, field=field, depth=depth + 1)
    elif isinstance(value, list | tuple):  # json.dumps writes tuples as arrays
        for item in value:
            _check_values(item, field=field, depth=depth + 1)


def _check_text(text: str, *, field: str) -> None:
    if "\x00" in text:
        raise InvalidRequest(
            f"{field} contains a NUL character (\\u0000), which cannot be stored", field=field
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidRequest(f"{field} contains an unpaired surrogate", field=field) from exc
