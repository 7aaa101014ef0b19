"""Task ids in creation order: UUID version 7, stamped by the injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from adapters.ids import TimeOrderedIds, time_ordered_id
from tests.fakes import FakeClock

RANDOM_BITS = st.integers(min_value=0, max_value=2**74 - 1)
# Hypothesis takes naive bounds and attaches the zone itself: every moment is aware UTC.
MOMENTS = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001
    max_value=datetime(2200, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(now=MOMENTS, random_bits=RANDOM_BITS)
def test_an_id_is_a_version_7_uuid_of_the_rfc_variant(now: datetime, random_bits: int) -> None:
    task_id = time_ordered_id(now, random_bits)

    assert task_id.version == 7
    assert task_id.variant == "specified in RFC 4122"


@given(now=MOMENTS, random_bits=RANDOM_BITS)
def test_an_id_begins_with_its_millisecond(now: datetime, random_bits: int) -> None:
    task_id = time_ordered_id(now, random_bits)

    assert task_id.int >> 80 == int(now.timestamp() * 1000)


@given(now=MOMENTS, first=RANDOM_BITS, second=RANDOM_BITS, gap_ms=st.integers(1, 10**9))
def test_a_later_millisecond_sorts_after_whatever_the_random_bits(
    now: datetime, first: int, second: int, gap_ms: int
) -> None:
    earlier = time_ordered_id(now, first)
    later = time_ordered_id(now + timedelta(milliseconds=gap_ms), second)

    assert earlier < later
    assert str(earlier) < str(later)  # also as text, which is how SQLite stores them


@given(random_bits=RANDOM_BITS)
def test_all_74_random_bits_reach_the_id(random_bits: int) -> None:
    now = datetime(2026, 12, 4, tzinfo=UTC)

    assert time_ordered_id(now, random_bits) != time_ordered_id(now, random_bits ^ 1)
    assert time_ordered_id(now, random_bits) != time_ordered_id(now, random_bits ^ (1 << 73))


def test_ids_from_one_instant_differ() -> None:
    new_id = TimeOrderedIds(FakeClock())

    assert len({new_id() for _ in range(1000)}) == 1000


def test_ids_follow_the_injected_clock() -> None:
    clock = FakeClock()
    new_id = TimeOrderedIds(clock)
    first = new_id()
    clock.advance(timedelta(milliseconds=1))

    assert new_id() > first
