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

    def source(self, section: str) -> str:
        """Where `section` (``§4.1``, ``"Geometry"``) of the basis's document is."""
        if self is Basis.ALLEN_API:
            return f"docs/allen-api.md {section}"
        return f"docs/rules.md, {section}"


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
    """The body's docstring on one line (empty under ``python -OO``)."""
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

    def add(self, name: str, basis: Basis, section: str) -> Callable[[Body], Check]:
        """Decorator: declare the function as the body of a check citing `section` of its
        basis's document; its docstring says what the check expects."""

        def declare(body: Body) -> Check:
            summary = " ".join((body.__doc__ or "").split())
            check = Check(name, basis, basis.source(section), summary, body)
            self.checks.append(check)
            return check

        return declare
