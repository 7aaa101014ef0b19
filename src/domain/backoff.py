"""How long a failed task waits before its next attempt."""

from __future__ import annotations

from datetime import timedelta

from attrs import field, frozen


def _positive(_: object, attribute: object, value: timedelta) -> None:
    if value <= timedelta(0):
        raise ValueError(f"{getattr(attribute, 'name', 'value')} must be positive, got {value}")


def _fraction(_: object, __: object, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"jitter must be within [0, 1], got {value}")


@frozen(kw_only=True)
class BackoffPolicy:
    """Exponential backoff: ``base * 2 ** (attempt - 1)``, capped, with optional jitter.

    Jitter spreads retries of tasks that failed together; it is off by default so
    that retry times are predictable.
    """

    #: Delay after the first failed attempt.
    base: timedelta = field(default=timedelta(seconds=5), validator=_positive)
    #: No delay is ever longer than this, whatever the attempt count.
    cap: timedelta = field(default=timedelta(hours=1), validator=_positive)
    #: Fraction of the delay by which it may move up or down; 0 turns jitter off.
    jitter: float = field(default=0.0, validator=_fraction)

    def delay(self, attempt: int, rand: float = 0.5) -> timedelta:
        """Delay after failed attempt number `attempt` (1-based); `rand` in [0, 1) drives jitter."""
        if attempt < 1:
            raise ValueError(f"attempt must be at least 1, got {attempt}")
        if not 0.0 <= rand <= 1.0:
            # Out of range (or NaN), jitter would leave its band; refuse rather than clamp.
            raise ValueError(f"rand must be within [0, 1], got {rand}")
        base_us = _microseconds(self.base)
        cap_us = _microseconds(self.cap)
        shift = attempt - 1
        # Integer shifting never overflows in Python, but it can grow without bound;
        # past the cap's bit length the answer is the cap anyway.
        raw_us = cap_us if shift >= cap_us.bit_length() else min(base_us << shift, cap_us)
        if self.jitter:
            raw_us = round(raw_us * (1.0 + self.jitter * (2.0 * rand - 1.0)))
        return timedelta(microseconds=max(0, min(raw_us, cap_us)))


def _microseconds(value: timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
