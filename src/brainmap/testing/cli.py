"""`python -m brainmap.testing URL [--only NAME...] [--json] [--timeout SECONDS]`.

Exit status: 0 when every check run passed or was skipped, 1 when the server differs on any,
2 for a usage error or when the server cannot be reached, 130 when interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from brainmap.testing.report import as_json, outcome_line, summary_line
from brainmap.testing.suite import Status, checks, run, select
from brainmap.testing.wire import DEFAULT_TIMEOUT, ServerUnreachable, server_root

PASSED, DIFFERS, USAGE, INTERRUPTED = 0, 1, 2, 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m brainmap.testing",
        description="Run brainmap's protocol checks against an Allen Brain Map API server.",
        epilog=f"checks: {', '.join(check.name for check in checks())}",
    )
    parser.add_argument("url", help="server root, e.g. http://api.brain-map.org")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these checks")
    parser.add_argument("--json", action="store_true", help="print a JSON report")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"longest wait for one answer (default {DEFAULT_TIMEOUT:g})",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the kit; the exit status."""
    parser = _parser()
    arguments = parser.parse_args(argv)
    try:
        root = server_root(arguments.url)
        selected = select(arguments.only) if arguments.only else checks()
    except ValueError as error:
        parser.error(str(error))
    if arguments.timeout <= 0:
        parser.error("--timeout must be positive")
    printer = None if arguments.json else lambda outcome: print(outcome_line(outcome), flush=True)
    try:
        if not arguments.json:
            print(f"brainmap conformance kit: {len(selected)} checks against {root}", flush=True)
        report = run(root, selected, arguments.timeout, printer)
    except ServerUnreachable as error:
        print(f"no answer from the server: {error}", file=sys.stderr)
        return USAGE
    except KeyboardInterrupt:
        print("interrupted: no verdict", file=sys.stderr)
        return INTERRUPTED
    print(as_json(report) if arguments.json else summary_line(report))
    return DIFFERS if report.count(Status.FAIL) else PASSED
