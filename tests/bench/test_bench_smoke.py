"""The benchmark's table, checked without running a benchmark (no database, no peers)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

# Loaded by path: this test folder is itself a package named `bench`, which would
# shadow the top-level bench/ directory on import.
_PATH = Path(__file__).resolve().parents[2] / "bench" / "report.py"
_SPEC = importlib.util.spec_from_file_location("taskspool_bench_report", _PATH)
assert _SPEC is not None
assert _SPEC.loader is not None
report = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = report  # dataclasses look their module up while building
_SPEC.loader.exec_module(report)

FIGURES = {
    "taskspool-pg": {"drain_1": 12_000.0, "pickup_p99": 3.0},
    "procrastinate": {"drain_1": 300.0, "pickup_p99": 12.0},
    "pgqueuer": {"drain_1": 6_000.0, "pickup_p99": 10.0},
}
PEERS = ("procrastinate", "pgqueuer")


def metric(key: str) -> report.Metric:
    return next(m for m in report.METRICS if m.key == key)


def test_best_peer_is_the_fastest_for_throughput() -> None:
    assert report.best_peer(metric("drain_1"), FIGURES, PEERS) == 6_000.0


def test_best_peer_is_the_lowest_for_latency() -> None:
    assert report.best_peer(metric("pickup_p99"), FIGURES, PEERS) == 10.0


def test_ratio_divides_taskspool_by_the_best_peer() -> None:
    assert report.ratio(12_000.0, 6_000.0) == pytest.approx(2.0)


def test_ratio_is_absent_without_a_peer_figure() -> None:
    assert report.ratio(12_000.0, None) is None


def test_table_has_a_row_per_metric_and_a_ratio_column_per_taskspool_subject() -> None:
    text = report.table(
        FIGURES,
        subjects=["taskspool-pg", "procrastinate", "pgqueuer"],
        peers=PEERS,
        ours=["taskspool-pg"],
    )
    lines = text.splitlines()
    assert len(lines) == 2 + len(report.METRICS)
    assert "taskspool-pg / best peer" in lines[0]
    drain_row = next(line for line in lines if line.startswith("| (2) drain"))
    assert "| 12,000 | 300 | 6,000 | 2.00x |" in drain_row


def test_table_marks_a_failed_workload() -> None:
    text = report.table(
        {"taskspool-pg": {}, "pgqueuer": {"drain_1": 1.0}},
        subjects=["taskspool-pg", "pgqueuer"],
        peers=["pgqueuer"],
        ours=["taskspool-pg"],
        errors={"taskspool-pg": {"drain_1": "timeout"}},
    )
    drain_row = next(line for line in text.splitlines() if line.startswith("| (2) drain"))
    assert "| failed |" in drain_row
    assert (
        report.failures({"taskspool-pg": {"drain_1": "timeout"}})
        == "- taskspool-pg, drain_1: timeout"
    )


def test_rounds_combine_to_the_median_of_each_figure() -> None:
    rounds = [{"drain_1": 9_000.0}, {"drain_1": 12_000.0}, {"drain_1": 30_000.0}]

    assert report.combine(rounds) == {"drain_1": 12_000.0}


def test_rounds_combine_to_the_highest_peak_rss() -> None:
    rounds = [{"rss_mb": 60.0}, {"rss_mb": 70.0}, {"rss_mb": 65.0}]

    assert report.combine(rounds) == {"rss_mb": 70.0}


def test_a_figure_one_round_lost_comes_from_the_rounds_that_have_it() -> None:
    rounds = [{"drain_1": 9_000.0}, {}, {"drain_1": 11_000.0}]

    assert report.combine(rounds) == {"drain_1": 10_000.0}


def test_the_spread_shows_the_lowest_and_highest_round() -> None:
    rounds = {"pgqueuer": [{"drain_1": 9_000.0}, {"drain_1": 12_500.0}]}

    text = report.spread(rounds, subjects=["pgqueuer"])

    drain_row = next(line for line in text.splitlines() if line.startswith("| (2) drain"))
    assert "| 9,000 to 12,500 |" in drain_row
