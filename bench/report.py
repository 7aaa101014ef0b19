"""The results table: one row per figure, one column per subject, ratios to the best peer.

Pure functions of the figures, so they are tested without a database.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    #: True when more is better (throughput); False for latency and memory.
    higher_is_better: bool
    #: The issue's target for taskspool, in words.
    target: str


METRICS: tuple[Metric, ...] = (
    Metric("enqueue_single", "(1) enqueue, one call each", "tasks/s", True, ">= best peer"),
    Metric(
        "enqueue_bulk", "(1) enqueue, bulk (1,000 per call)", "tasks/s", True, ">= 1.5x best peer"
    ),
    Metric(
        "drain_1", "(2) drain, 1 worker process", "tasks/s", True, ">= 2x best peer (SQLite: >= 1x)"
    ),
    Metric("drain_4", "(3) drain, 4 worker processes", "tasks/s", True, ">= own 1-process drain"),
    Metric("pickup_p50", "(4) pickup from idle, p50", "ms", False, "<= 3 ms"),
    Metric("pickup_p95", "(4) pickup from idle, p95", "ms", False, ""),
    Metric("pickup_p99", "(4) pickup from idle, p99", "ms", False, "<= 6 ms and < every peer"),
    Metric("pickup_max", "(4) pickup from idle, max", "ms", False, ""),
    Metric(
        "drain_1m", "(5) drain, 1 process, among finished rows", "tasks/s", True, ">= 80% of (2)"
    ),
    Metric("rss_mb", "(6) worker peak RSS while draining", "MB", False, "< 150 MB"),
)


#: Figures where the worst round is the honest one: a peak is a peak.
_WORST_OF_ROUNDS = {"rss_mb"}


def combine(rounds: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """One subject's figures over several rounds: the median of each (the peak RSS: the
    highest), from the rounds that produced it. A noisy round moves a median little."""
    keys = {key for figures in rounds for key in figures}
    combined = {}
    for key in keys:
        values = [figures[key] for figures in rounds if key in figures]
        combined[key] = max(values) if key in _WORST_OF_ROUNDS else statistics.median(values)
    return combined


def spread(rounds: Mapping[str, Sequence[Mapping[str, float]]], *, subjects: Sequence[str]) -> str:
    """A markdown table of each figure's lowest and highest round, per subject."""
    head = ["workload", "unit", *subjects]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for metric in METRICS:
        cells = [metric.label, metric.unit]
        for subject in subjects:
            values = [f[metric.key] for f in rounds.get(subject, ()) if metric.key in f]
            cells.append(
                "—"
                if not values
                else f"{format_value(min(values), metric.unit)}"
                f" to {format_value(max(values), metric.unit)}"
            )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def best_peer(
    metric: Metric, figures: Mapping[str, Mapping[str, float]], peers: Sequence[str]
) -> float | None:
    """The best value any peer reached for `metric`, or None if no peer has one."""
    values = [figures[p][metric.key] for p in peers if metric.key in figures.get(p, {})]
    if not values:
        return None
    return max(values) if metric.higher_is_better else min(values)


def ratio(value: float | None, best: float | None) -> float | None:
    """taskspool / best peer; above 1 is better for throughput, below 1 for latency and memory."""
    if value is None or best is None or best == 0:
        return None
    return value / best


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "tasks/s":
        return f"{value:,.0f}"
    if unit == "ms":
        return f"{value:.2f}"
    return f"{value:.0f}"


def format_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}x"


def table(
    figures: Mapping[str, Mapping[str, float]],
    *,
    subjects: Sequence[str],
    peers: Sequence[str],
    ours: Sequence[str],
    errors: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """The markdown table: workload, unit, one column per subject, ratio columns, target."""
    errors = errors or {}
    head = ["workload", "unit", *subjects, *(f"{s} / best peer" for s in ours), "target"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for metric in METRICS:
        best = best_peer(metric, figures, peers)
        cells = [metric.label, metric.unit]
        for subject in subjects:
            value = figures.get(subject, {}).get(metric.key)
            failed = errors.get(subject, {}).get(metric.key)
            cells.append("failed" if value is None and failed else format_value(value, metric.unit))
        for subject in ours:
            cells.append(format_ratio(ratio(figures.get(subject, {}).get(metric.key), best)))
        cells.append(metric.target)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def failures(errors: Mapping[str, Mapping[str, str]]) -> str:
    """A markdown list of what failed and why; empty when nothing did."""
    items = [
        f"- {subject}, {key}: {reason}"
        for subject, by_key in errors.items()
        for key, reason in by_key.items()
    ]
    return "\n".join(items)
