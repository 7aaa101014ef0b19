"""Run every workload against taskspool and its peers in one go; print and save the table.

    pip install -e '.[bench]'
    python bench/run.py            # full sizes, 3 rounds (about 12-15 minutes)
    python bench/run.py --quick    # smaller counts, 1 round (a few minutes)

Each round measures every subject in turn, in a rotated order; the table shows
each figure's median over the rounds, and a second table its lowest and highest
round: on a shared machine a single round can be off by a third.

Starts its own throwaway PostgreSQL cluster (removed afterwards), installs nothing,
and writes the table with machine facts to bench/results/<date>.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script (`python bench/run.py`): make `bench` and `src` importable.
for path in (ROOT, ROOT / "src"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench import report  # noqa: E402
from bench.cluster import running_cluster  # noqa: E402
from bench.machine import facts  # noqa: E402
from bench.subjects import PEERS, SUBJECTS, load  # noqa: E402
from bench.workloads import FULL, QUICK, Figures, Runner, Sizes  # noqa: E402

OURS = ("taskspool-pg", "taskspool-sqlite")


def measure(runner: Runner, name: str) -> Figures:
    subject = load(name)
    figures = Figures()
    steps = [
        ("enqueue_single", lambda: runner.enqueue(subject, figures)),
        ("drain_1", lambda: runner.drain(subject, figures, workers=1, finished=0)),
        ("drain_4", lambda: runner.drain(subject, figures, workers=4, finished=0)),
        ("pickup_p50", lambda: runner.latency(subject, figures)),
        (
            "drain_1m",
            lambda: runner.drain(subject, figures, workers=1, finished=runner.sizes.finished),
        ),
    ]
    for key, step in steps:
        try:
            step()
        except Exception as exc:  # one failed workload must not lose the others' figures
            figures.errors[key] = f"{type(exc).__name__}: {exc}"
            runner.say(f"{name}: {key} FAILED: {exc}")
    return figures


def measure_rounds(runner: Runner, subjects: list[str], rounds: int) -> dict[str, list[Figures]]:
    """Every subject measured `rounds` times; each round starts one subject further on,
    so that no subject always runs first (or last) while the machine drifts."""
    results: dict[str, list[Figures]] = {name: [] for name in subjects}
    for round_ in range(rounds):
        runner.say(f"round {round_ + 1} of {rounds}")
        shift = round_ % len(subjects)
        for name in subjects[shift:] + subjects[:shift]:
            results[name].append(measure(runner, name))
    return results


def render(
    *,
    sizes: Sizes,
    quick: bool,
    results: dict[str, list[Figures]],
    subjects: list[str],
    machine: dict[str, str],
    seconds: float,
) -> str:
    rounds = max(len(runs) for runs in results.values())
    values = {name: report.combine([f.values for f in runs]) for name, runs in results.items()}
    errors = {
        name: {key: reason for f in runs for key, reason in f.errors.items()}
        for name, runs in results.items()
        if any(f.errors for f in runs)
    }
    ours = [s for s in OURS if s in subjects]
    peers = [s for s in PEERS if s in subjects]
    parts = [
        f"# taskspool benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC ({'quick' if quick else 'full'} run)",
        "",
        f"Sizes: enqueue {sizes.enqueue:,} tasks; drain {sizes.drain:,} queued no-op tasks;"
        f" {sizes.finished:,} finished rows in workload (5); pickup latency over {sizes.latency}"
        f" tasks enqueued {sizes.interval * 1000:.0f} ms apart. Ratios are taskspool / best peer"
        " (higher is better for tasks/s, lower for ms and MB)."
        f" Each figure is the median of {rounds} round{'s' if rounds > 1 else ''}"
        " (peak RSS: the highest). Whole run: "
        f"{seconds / 60:.1f} min.",
        "",
        report.table(values, subjects=subjects, peers=peers, ours=ours, errors=errors),
        "",
    ]
    if rounds > 1:
        spreads = {name: [f.values for f in runs] for name, runs in results.items()}
        parts += [
            "Lowest and highest round of each figure:",
            "",
            report.spread(spreads, subjects=subjects),
            "",
        ]
    failed = report.failures(errors)
    if failed:
        parts += ["Failed workloads:", "", failed, ""]
    parts += ["Subjects:", ""]
    parts += [f"- {name}: {load(name).setup}" for name in subjects]
    parts += ["", "Machine and versions:", ""]
    parts += [f"- {key}: {value}" for key, value in machine.items()]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller counts; a few minutes")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(SUBJECTS),
        help="measure only these subjects (default: all)",
    )
    parser.add_argument("--no-save", action="store_true", help="print the table; write no file")
    parser.add_argument(
        "--rounds",
        type=int,
        help="measure every subject this many times; report medians (default: 3, quick: 1)",
    )
    args = parser.parse_args(argv)
    rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    if rounds < 1:
        parser.error("--rounds must be at least 1")
    sizes = QUICK if args.quick else FULL
    subjects = [s for s in SUBJECTS if not args.only or s in args.only]
    started = time.monotonic()
    with running_cluster() as cluster:
        runner = Runner(cluster=cluster, sizes=sizes)
        runner.say(f"PostgreSQL {cluster.version} on port {cluster.port}")
        results = measure_rounds(runner, subjects, rounds)
        machine = facts(postgres_version=cluster.version)
    text = render(
        sizes=sizes,
        quick=args.quick,
        results=results,
        subjects=subjects,
        machine=machine,
        seconds=time.monotonic() - started,
    )
    print(text)
    if not args.no_save:
        suffix = "-quick" if args.quick else ""
        out = ROOT / "bench" / "results" / f"{datetime.now(UTC):%Y-%m-%d-%H%M}{suffix}.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        print(f"written to {out.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
