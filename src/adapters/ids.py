"""Task ids that sort in creation order (UUID version 7, RFC 9562).

A random (version 4) id lands anywhere in the primary-key index, and a queue writes
that index on every claim and settle (a status change is never a HOT update): on a
table with a million finished tasks each new task's entries fell on a page of their
own. Ids that begin with their creation time keep a batch's entries on a few
neighbouring pages. The other 74 bits come from `os.urandom`, so ids stay as hard
to guess as before.
"""

from __future__ import annotations

import os
from datetime import datetime
from uuid import UUID

from application.ports import Clock

_VERSION = 0x7 << 76
_VARIANT = 0b10 << 62
_RAND_A_BITS, _RAND_B_BITS = 12, 62


def time_ordered_id(now: datetime, random_bits: int) -> UUID:
    """The version 7 UUID for `now` (aware) whose 74 random bits are `random_bits`."""
    millis = int(now.timestamp() * 1000) & ((1 << 48) - 1)
    rand_a = (random_bits >> _RAND_B_BITS) & ((1 << _RAND_A_BITS) - 1)
    rand_b = random_bits & ((1 << _RAND_B_BITS) - 1)
    return UUID(int=(millis << 80) | _VERSION | (rand_a << 64) | _VARIANT | rand_b)


class TimeOrderedIds:
    """A `new_id` for `TaskService`: version 7 UUIDs stamped by the injected clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self) -> UUID:
        return time_ordered_id(self._clock.now(), int.from_bytes(os.urandom(10)))
