"""BackoffPolicy: examples of the documented schedule, and its properties for any attempt."""

from __future__ import annotations

import math
from datetime import timedelta
from fractions import Fraction

import pytest
from attrs import evolve
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.backoff import BackoffPolicy

#: The machine is shared and noisy; a per-example deadline would only flake.
UNIT = settings(deadline=None, max_examples=200)

MICROSECOND = timedelta(microseconds=1)
durations = st.integers(min_value=1, max_value=10**11).map(lambda us: us * MICROSECOND)
attempts = st.integers(min_value=1, max_value=10**6)
jitters = st.floats(min_value=0.0, max_value=1.0)
rands = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)


def micros(value: timedelta) -> int:
    return value // MICROSECOND


def formula(policy: BackoffPolicy, attempt: int) -> int:
    """`min(base * 2 ** (attempt - 1), cap)` in microseconds, by exact integer arithmetic."""
    base, cap = micros(policy.base), micros(policy.cap)
    # 2 ** (attempt - 1) for a million attempts is a big but exact integer.
    return min(base * (1 << (attempt - 1)), cap)


def test_default_schedule_is_five_ten_twenty_seconds() -> None:
    policy = BackoffPolicy()
    assert [policy.delay(n) for n in (1, 2, 3)] == [timedelta(seconds=s) for s in (5, 10, 20)]


def test_default_cap_is_one_hour() -> None:
    assert BackoffPolicy().delay(100) == timedelta(hours=1)


def test_jitter_is_off_by_default() -> None:
    policy = BackoffPolicy()
    assert policy.jitter == 0.0
    assert policy.delay(2, rand=0.0) == policy.delay(2, rand=0.99) == timedelta(seconds=10)


def test_full_jitter_at_the_lowest_rand_gives_no_delay() -> None:
    assert BackoffPolicy(jitter=1.0).delay(1, rand=0.0) == timedelta(0)


@pytest.mark.parametrize("attempt", [0, -1])
def test_attempt_below_one_is_refused(attempt: int) -> None:
    with pytest.raises(ValueError, match="attempt must be at least 1"):
        BackoffPolicy().delay(attempt)


@pytest.mark.parametrize("field", ["base", "cap"])
@pytest.mark.parametrize("value", [timedelta(0), timedelta(seconds=-5)])
def test_non_positive_base_or_cap_is_refused(field: str, value: timedelta) -> None:
    with pytest.raises(ValueError, match=f"{field} must be positive"):
        evolve(BackoffPolicy(), **{field: value})  # type: ignore[arg-type]  # invalid on purpose


@pytest.mark.parametrize("jitter", [-0.01, 1.01, math.nan])
def test_jitter_outside_zero_to_one_is_refused(jitter: float) -> None:
    with pytest.raises(ValueError, match="jitter must be within"):
        BackoffPolicy(jitter=jitter)


@pytest.mark.parametrize("rand", [-0.1, 1.5, math.nan])
def test_rand_outside_zero_to_one_is_refused(rand: float) -> None:
    with pytest.raises(ValueError, match="rand must be within"):
        BackoffPolicy(jitter=0.5).delay(1, rand=rand)


@UNIT
@given(base=durations, cap=durations, attempt=attempts)
def test_delay_without_jitter_is_the_capped_doubling(
    base: timedelta, cap: timedelta, attempt: int
) -> None:
    policy = BackoffPolicy(base=base, cap=cap)
    assert micros(policy.delay(attempt)) == formula(policy, attempt)


@UNIT
@given(base=durations, cap=durations, attempt=attempts)
def test_delay_never_exceeds_the_cap(base: timedelta, cap: timedelta, attempt: int) -> None:
    assert BackoffPolicy(base=base, cap=cap).delay(attempt) <= cap


@UNIT
@given(base=durations, cap=durations, attempt=attempts)
def test_delay_never_shrinks_from_one_attempt_to_the_next(
    base: timedelta, cap: timedelta, attempt: int
) -> None:
    policy = BackoffPolicy(base=base, cap=cap)
    assert policy.delay(attempt) <= policy.delay(attempt + 1)


@UNIT
@given(base=durations, cap=durations, jitter=jitters, attempt=attempts, rand=rands)
def test_jittered_delay_stays_within_the_jitter_band_and_the_cap(
    base: timedelta, cap: timedelta, jitter: float, attempt: int, rand: float
) -> None:
    policy = BackoffPolicy(base=base, cap=cap, jitter=jitter)
    d = formula(policy, attempt)
    low = Fraction(1) - Fraction(jitter)
    high = Fraction(1) + Fraction(jitter)
    delay = micros(policy.delay(attempt, rand))
    # Delays are whole microseconds, so the band's ends may round by less than one.
    assert low * d - 1 <= delay
    assert delay <= micros(cap)
    assert delay <= high * d + 1
