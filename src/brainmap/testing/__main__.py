"""`python -m brainmap.testing URL`: run the conformance kit (see `brainmap.testing.cli`)."""

from brainmap.testing.cli import main

raise SystemExit(main())
