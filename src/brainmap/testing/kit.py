"""A conformance check: its name, its basis and where that basis is written, and its body."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from brainmap.testing.samples import Probe
from brainmap.testing.wire import DEFAULT_TIMEOUT


class Basis(str, Enum):
    """Why a server should answer as a check expects."""

    ALLEN_API = "allen-api"
    """The real API is known to do this (docs/allen-api.md says so, with its source)."""
    BRAINMAP_RULE = "brainmap-rule"
    """The record is silent and brainmap decided (docs/rules.md)."""


Body = Callable[[Probe], None]


@dataclass(frozen=True)
class Check:
    """One protocol check. Call it with a server root: it returns when the server conforms,
    raises `Difference` when it does not, `Skipped` when the server has nothing to check it on,
    and `ServerUnreachable` when no answer comes."""

    name: str
    basis: Basis
    source: str
    """The section of brainmap's documentation where the fact or rule is written."""
    summary: str
    body: Body

    def __call__(self, root: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.run(Probe.connect(root, timeout))

    def run(self, probe: Probe) -> None:
        """Run against a probe shared with other checks (one lookup of each sample)."""
        self.body(probe)


class CheckGroup:
    """The checks of one module, in the order they are declared."""

    def __init__(self) -> None:
        self.checks: list[Check] = []

    def add(self, name: str, basis: Basis, source: str, summary: str) -> Callable[[Body], Check]:
        """Decorator: declare the function as the body of a check."""

        def declare(body: Body) -> Check:
            check = Check(name, basis, source, summary, body)
            self.checks.append(check)
            return check

        return declare
