"""The task state machine: every legal edge works, every other edge is refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from domain.errors import InvalidTransition
from domain.task import TERMINAL_STATUSES, TRANSITIONS, Task, TaskStatus
from tests.unit.builders import BACKOFF, LATER, task_in

S = TaskStatus

#: The state machine as issue 2 states it, written out by hand: claim, success,
#: failure, stale (expire), cancel; plus release (shutdown hands a task back) and
#: the operator's retry, the only way out of a terminal state.
SPEC_EDGES: dict[TaskStatus, set[TaskStatus]] = {
    S.PENDING: {S.IN_PROGRESS, S.CANCELLED},
    S.RETRYING: {S.IN_PROGRESS, S.CANCELLED},
    S.IN_PROGRESS: {S.COMPLETED, S.RETRYING, S.FAILED, S.PENDING},
    S.COMPLETED: set(),
    S.FAILED: {S.PENDING},
    S.CANCELLED: {S.PENDING},
}


#: Each transition method, the status it leads to, and the statuses it may start from.
MOVES: dict[str, tuple[Callable[[Task], Task], TaskStatus, frozenset[TaskStatus]]] = {
    "claim": (
        lambda t: t.claim(now=LATER, worker_id="w2"),
        S.IN_PROGRESS,
        frozenset({S.PENDING, S.RETRYING}),
    ),
    "complete": (
        lambda t: t.complete(now=LATER, result={"done": 1}),
        S.COMPLETED,
        frozenset({S.IN_PROGRESS}),
    ),
    "fail_retryable": (
        lambda t: t.fail(now=LATER, message="boom", backoff=BACKOFF),
        S.RETRYING,
        frozenset({S.IN_PROGRESS}),
    ),
    "fail_permanently": (
        lambda t: t.fail(now=LATER, message="bad", backoff=BACKOFF, retryable=False),
        S.FAILED,
        frozenset({S.IN_PROGRESS}),
    ),
    "expire": (
        lambda t: t.expire(now=LATER, backoff=BACKOFF),
        S.RETRYING,
        frozenset({S.IN_PROGRESS}),
    ),
    "release": (lambda t: t.release(now=LATER), S.PENDING, frozenset({S.IN_PROGRESS})),
    "cancel": (lambda t: t.cancel(now=LATER), S.CANCELLED, frozenset({S.PENDING, S.RETRYING})),
    "retry": (lambda t: t.retry(now=LATER), S.PENDING, frozenset({S.FAILED, S.CANCELLED})),
}

LEGAL = [(name, status) for name, (_, _, sources) in MOVES.items() for status in sources]
#: Illegal by the table: the move's target is not an edge out of the status.
ILLEGAL_BY_TABLE = [
    (name, status)
    for name, (_, target, _) in MOVES.items()
    for status in TaskStatus
    if target not in TRANSITIONS[status]
]
#: Illegal by the method: the target is an edge out of the status, but not this method's
#: (release from a terminal state, retry of a running task).
ILLEGAL_BY_METHOD = [
    (name, status)
    for name, (_, target, sources) in MOVES.items()
    for status in TaskStatus
    if status not in sources and target in TRANSITIONS[status]
]


def test_transition_table_matches_the_specified_state_machine() -> None:
    assert {status: set(targets) for status, targets in TRANSITIONS.items()} == SPEC_EDGES


def test_every_method_source_is_an_edge_of_the_table() -> None:
    for _name, (_, target, sources) in MOVES.items():
        assert all(target in TRANSITIONS[source] for source in sources)


def test_every_edge_of_the_table_is_reached_by_some_method() -> None:
    reached = {(source, target) for _, target, sources in MOVES.values() for source in sources}
    edges = {(source, target) for source, targets in TRANSITIONS.items() for target in targets}
    assert reached == edges


@pytest.mark.parametrize(("move", "status"), LEGAL, ids=[f"{m}-from-{s}" for m, s in LEGAL])
def test_legal_transition_reaches_its_target_and_bumps_the_version(
    move: str, status: TaskStatus
) -> None:
    apply, target, _ = MOVES[move]
    task = task_in(status)
    moved = apply(task)
    assert moved.status is target
    assert moved.version == task.version + 1
    assert moved.updated_at == LATER


@pytest.mark.parametrize(
    ("move", "status"), ILLEGAL_BY_TABLE, ids=[f"{m}-from-{s}" for m, s in ILLEGAL_BY_TABLE]
)
def test_transition_absent_from_the_table_raises_invalid_transition(
    move: str, status: TaskStatus
) -> None:
    apply, target, _ = MOVES[move]
    with pytest.raises(InvalidTransition) as raised:
        apply(task_in(status))
    assert (raised.value.current, raised.value.target) == (status.value, target.value)


@pytest.mark.parametrize(
    ("move", "status"), ILLEGAL_BY_METHOD, ids=[f"{m}-from-{s}" for m, s in ILLEGAL_BY_METHOD]
)
def test_method_outside_its_own_sources_raises_invalid_transition(
    move: str, status: TaskStatus
) -> None:
    apply, _, _ = MOVES[move]
    with pytest.raises(InvalidTransition):
        apply(task_in(status))


@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES))
def test_terminal_state_refuses_every_move_but_operator_retry(status: TaskStatus) -> None:
    task = task_in(status)
    for name, (apply, _, _) in MOVES.items():
        if name == "retry" and status is not S.COMPLETED:
            continue
        with pytest.raises(InvalidTransition):
            apply(task)


def test_completed_task_cannot_be_retried() -> None:
    with pytest.raises(InvalidTransition):
        task_in(S.COMPLETED).retry(now=LATER)


def test_invalid_transition_names_the_task_and_both_states() -> None:
    task = task_in(S.COMPLETED)
    with pytest.raises(InvalidTransition, match=f"task {task.id} cannot go from completed to"):
        task.cancel(now=LATER)
