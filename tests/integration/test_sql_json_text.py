"""The JSON encoding every SQL path writes with: what json.dumps writes, compactly."""

from __future__ import annotations

import json

import pytest

from adapters.sql import json_text


class _Label(str):
    pass


def test_subclasses_of_plain_values_are_written_as_their_base_values() -> None:
    document = {"label": _Label("ok"), "n": type("N", (int,), {})(3), "f": 1.5}

    assert json.loads(json_text.encode(document)) == {"label": "ok", "n": 3, "f": 1.5}


def test_an_object_json_cannot_say_is_refused_as_json_dumps_refuses_it() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        json_text.encode({"when": object()})


def test_text_decodes_to_the_value_it_spells() -> None:
    assert json_text.decode('{"a": [1, 2.5, null, "é"]}') == {"a": [1, 2.5, None, "é"]}
