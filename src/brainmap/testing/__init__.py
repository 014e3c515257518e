"""brainmap's conformance kit: the protocol checks of the Allen Brain Map API, run against any
server by its URL (our server, a mirror, or api.brain-map.org itself).

Each check has a basis: ``allen-api`` (the real API is known to answer so; docs/allen-api.md
gives the source) or ``brainmap-rule`` (the record is silent and brainmap decided;
docs/rules.md). The ids a check needs are found on the server through RMA queries; a server
without them makes the check skip.

From the command line::

    python -m brainmap.testing http://api.brain-map.org [--only NAME...] [--json]

From pytest::

    @pytest.mark.parametrize("check", brainmap.testing.checks(), ids=lambda check: check.name)
    def test_conformance(check, server_url):
        check(server_url)          # raises Difference (an AssertionError) or Skipped

This package imports nothing of brainmap's server or store: it is a client of the protocol.
"""

from brainmap.testing.kit import Basis, Check
from brainmap.testing.suite import Outcome, Report, Status, checks, run, select
from brainmap.testing.verdicts import Difference, Skipped
from brainmap.testing.wire import ServerUnreachable

__all__ = [
    "Basis",
    "Check",
    "Difference",
    "Outcome",
    "Report",
    "ServerUnreachable",
    "Skipped",
    "Status",
    "checks",
    "run",
    "select",
]
