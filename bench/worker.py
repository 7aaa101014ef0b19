"""Entry point of one worker process: `python -m bench.worker SUBJECT MODE URL EXPECT`.

MODE is `drain` (run until the queue is empty, then exit) or `listen` (idle worker
woken by the store; exit after EXPECT tasks). The subject module's `work` runs the
library's own worker loop; the probe reports what it saw as one JSON line.
"""

from __future__ import annotations

import argparse
import logging

from bench.probe import Probe
from bench.subjects import load


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("subject")
    parser.add_argument("mode", choices=["drain", "listen"])
    parser.add_argument("url")
    parser.add_argument("expect", type=int)
    args = parser.parse_args()
    # Workers log nothing below WARNING: per-task log lines would measure the logger.
    logging.basicConfig(level=logging.WARNING)
    probe = Probe(keep_starts=args.mode == "listen", expect=args.expect)
    load(args.subject).work(args.url, mode=args.mode, probe=probe)
    probe.report()


if __name__ == "__main__":
    main()
