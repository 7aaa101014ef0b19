"""JSON as the SQL stores write it, by msgspec: one encoding for every path.

SQLite keeps JSON columns as text, written either by SQLAlchemy (its
`json_serializer`, engine.py) or by the raw hot path (sqlite_values.py); both use
`encode`, so a row reads the same whichever wrote it. PostgreSQL's hot path sends
its rows as one JSON document (postgres.py), built with `encode_bytes`. msgspec
encodes and decodes several times faster than the json module, and claims and
settles pay for it per task.

What may be stored is what `application.payloads.check_document` lets through,
which it checks with `json.dumps`; the encoder must take all of that, or one
handler's result would fail the write of a whole batch of outcomes. msgspec takes
dict and list subclasses and enums as they are; `_plain` turns subclasses of str,
int and float (a `numpy.float64`, a str-based label) into their base type, as
`json.dumps` writes them. (NaN is refused by the check; msgspec would write null.)
"""

from __future__ import annotations

from typing import Any

import msgspec


def _plain(value: Any) -> Any:
    for base in (str, int, float):
        if isinstance(value, base):
            return base(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_encoder = msgspec.json.Encoder(enc_hook=_plain)
#: `value` as compact UTF-8 JSON bytes.
encode_bytes = _encoder.encode
#: The value a JSON text spells.
decode = msgspec.json.decode


def encode(value: Any) -> str:
    """`value` as compact JSON text."""
    return _encoder.encode(value).decode()
