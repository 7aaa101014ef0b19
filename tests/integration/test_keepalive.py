"""The heartbeat thread: beats every running handler's lease until its block ends."""

from __future__ import annotations

import threading
from datetime import timedelta

from adapters.keepalive import ThreadKeepalive

PATIENCE = 10.0
TICK = timedelta(milliseconds=5)


class Beats:
    """A beat function that counts its calls and answers as told."""

    def __init__(self, *, alive: bool = True, raises: int = 0) -> None:
        self.calls = 0
        self.alive = alive
        self.raises = raises
        self.called = threading.Event()

    def __call__(self) -> bool:
        self.calls += 1
        self.called.set()
        if self.raises:
            self.raises -= 1
            raise RuntimeError("database went away")
        return self.alive

    def wait_for_calls(self, count: int) -> None:
        while self.calls < count:
            self.called.clear()
            assert self.called.wait(PATIENCE), "no heartbeat came"


def test_every_running_block_is_beaten_repeatedly() -> None:
    keepalive = ThreadKeepalive(interval=TICK)
    first, second = Beats(), Beats()

    with keepalive(first), keepalive(second):
        first.wait_for_calls(3)
        second.wait_for_calls(3)


def test_no_beat_comes_after_the_block_ends() -> None:
    keepalive = ThreadKeepalive(interval=TICK)
    finished, witness = Beats(), Beats()
    with keepalive(finished):
        finished.wait_for_calls(1)
    calls_at_exit = finished.calls

    with keepalive(witness):
        witness.wait_for_calls(3)  # three rounds later, the finished block got none

    assert finished.calls <= calls_at_exit + 1  # at most a round already under way


def test_a_lost_claim_stops_its_heartbeats_but_not_the_others() -> None:
    keepalive = ThreadKeepalive(interval=TICK)
    lost, live = Beats(alive=False), Beats()

    with keepalive(lost), keepalive(live):
        lost.wait_for_calls(1)
        live.wait_for_calls(4)

    assert lost.calls == 1


def test_a_failing_heartbeat_is_tried_again() -> None:
    keepalive = ThreadKeepalive(interval=TICK)
    flaky = Beats(raises=2)

    with keepalive(flaky):
        flaky.wait_for_calls(4)
