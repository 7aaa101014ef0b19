"""Counting the nesting of JSON text without decoding it."""

from __future__ import annotations

import json

import pytest

from application.errors import InvalidRequest
from application.payloads import MAX_DEPTH, check_document, check_json_nesting


def nested(levels: int) -> str:
    """An object holding `levels` - 1 arrays inside each other: `levels` brackets deep."""
    return '{"a":' + "[" * (levels - 1) + "]" * (levels - 1) + "}"


def test_text_as_deep_as_a_storable_document_is_accepted() -> None:
    text = nested(MAX_DEPTH + 1)
    check_document(json.loads(text), field="payload", limit=10_000)

    check_json_nesting(text, what="text", field=None)


def test_text_one_level_deeper_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidRequest, match="nested too deeply") as refused:
        check_json_nesting(nested(MAX_DEPTH + 2), what="--payload", field="--payload")
    assert refused.value.field == "--payload"


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"a": "[" * 5000, "b": '\\"{' * 5000})

    check_json_nesting(text.encode(), what="text", field=None)
