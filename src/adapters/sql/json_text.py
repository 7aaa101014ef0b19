"""JSON text for the SQLite store, by msgspec: one encoding for Core and the raw path.

SQLite keeps JSON columns as text, written either by SQLAlchemy (its
`json_serializer`, engine.py) or by the raw hot path (sqlite_values.py); both use
`encode`, so a row reads the same whichever wrote it. msgspec encodes and decodes
several times faster than the json module, and claims and settles pay for it per
task. Documents reaching storage have passed `application.payloads.check_document`,
so hold nothing (NaN, non-string keys) that JSON cannot say.
"""

from __future__ import annotations

from typing import Any

import msgspec

_encoder = msgspec.json.Encoder()
#: The value a JSON text spells.
decode = msgspec.json.decode


def encode(value: Any) -> str:
    """`value` as compact JSON text."""
    return _encoder.encode(value).decode()
