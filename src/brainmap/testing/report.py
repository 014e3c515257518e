"""A run's outcomes as text lines or as a JSON document."""

from __future__ import annotations

import json

from brainmap.testing.suite import Outcome, Report, Status


def outcome_line(outcome: Outcome) -> str:
    """`PASS  name  basis (source)`, and what differed or was missing."""
    check = outcome.check
    line = (
        f"{outcome.status.value.upper():4}  {check.name:22}  {check.basis.value} ({check.source})"
    )
    return f"{line}: {outcome.detail}" if outcome.detail else line


SUMMARY_WORDS = {Status.PASS: "passed", Status.FAIL: "failed", Status.SKIP: "skipped"}


def summary_line(report: Report) -> str:
    """`N passed, N failed, N skipped against ROOT (N requests)`."""
    counts = ", ".join(f"{report.count(status)} {SUMMARY_WORDS[status]}" for status in Status)
    return f"{counts} against {report.root} ({report.requests} requests)"


def as_json(report: Report) -> str:
    """The report as a JSON document: the server, each check's outcome, the counts."""
    document = {
        "server": report.root,
        "checks": [
            {
                "name": outcome.check.name,
                "basis": outcome.check.basis.value,
                "source": outcome.check.source,
                "outcome": outcome.status.value,
                "detail": outcome.detail,
            }
            for outcome in report.outcomes
        ],
        "summary": {status.value: report.count(status) for status in Status},
        "requests": report.requests,
    }
    return json.dumps(document, indent=2)
