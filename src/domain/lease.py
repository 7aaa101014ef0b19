"""When a claimed task counts as abandoned by its worker."""

from __future__ import annotations

from datetime import datetime, timedelta

from attrs import field, frozen


def _positive(_: object, __: object, value: timedelta) -> None:
    if value <= timedelta(0):
        raise ValueError(f"stale_after must be positive, got {value}")


@frozen(kw_only=True)
class LeasePolicy:
    """A task in progress whose last heartbeat is older than `stale_after` is stale.

    Workers heartbeat well inside this window, so only a dead or wedged worker
    lets a lease lapse.
    """

    stale_after: timedelta = field(default=timedelta(minutes=5), validator=_positive)

    def stale_before(self, now: datetime) -> datetime:
        """Heartbeats earlier than this instant mark a task as stale."""
        return now - self.stale_after

    def heartbeat_every(self) -> timedelta:
        """How often a live worker should refresh its lease: a fifth of the window."""
        return self.stale_after / 5
