"""Every check, and a run of some of them against one server with one shared probe."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

from brainmap.testing.check_formats import FORMATS
from brainmap.testing.check_images import IMAGES
from brainmap.testing.check_queries import QUERIES
from brainmap.testing.check_regions import REGIONS
from brainmap.testing.kit import Check
from brainmap.testing.samples import Probe
from brainmap.testing.verdicts import Difference, Skipped
from brainmap.testing.wire import DEFAULT_TIMEOUT, ServerUnreachable


def checks() -> tuple[Check, ...]:
    """Every check, metadata first, then images."""
    return (*FORMATS.checks, *QUERIES.checks, *REGIONS.checks, *IMAGES.checks)


def select(names: Sequence[str]) -> tuple[Check, ...]:
    """The checks named, in suite order; ValueError naming any unknown name."""
    known = {check.name: check for check in checks()}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown check {', '.join(unknown)} (known: {', '.join(known)})")
    return tuple(check for check in checks() if check.name in names)


class Status(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class Outcome:
    """How one check ended; `detail` says what differed or what was missing."""

    check: Check
    status: Status
    detail: str = ""


@dataclass(frozen=True)
class Report:
    """A run: the server root, each check's outcome and the requests sent."""

    root: str
    outcomes: tuple[Outcome, ...]
    requests: int

    def count(self, status: Status) -> int:
        return sum(outcome.status is status for outcome in self.outcomes)


def outcome_of(check: Check, probe: Probe) -> Outcome:
    """Run one check. ServerUnreachable is not an outcome: it ends the run."""
    try:
        check.run(probe)
    except Difference as difference:
        return Outcome(check, Status.FAIL, str(difference))
    except Skipped as skipped:
        return Outcome(check, Status.SKIP, str(skipped))
    except ServerUnreachable:
        raise
    except Exception as error:  # an answer the check could not read is a failure too
        return Outcome(check, Status.FAIL, f"stopped on {type(error).__name__}: {error}")
    return Outcome(check, Status.PASS)


def run(
    root: str,
    selected: Sequence[Check] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> Report:
    """Run the `selected` checks (default all) against the server at `root`, in order,
    calling `on_outcome` as each ends."""
    probe = Probe.connect(root, timeout)
    outcomes = []
    for check in checks() if selected is None else selected:
        outcome = outcome_of(check, probe)
        if on_outcome is not None:
            on_outcome(outcome)
        outcomes.append(outcome)
    return Report(probe.server.root, tuple(outcomes), probe.server.requests)
