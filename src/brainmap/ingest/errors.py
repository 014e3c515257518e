"""Why an ingest stops before it writes anything; the CLI maps each kind to an exit code."""

from __future__ import annotations

from brainmap.errors import BrainmapError


class IngestError(BrainmapError, ValueError):
    """An input file cannot be ingested; the message names the file and the problem."""


class IngestUsageError(IngestError):
    """An option value or a combination of options cannot be used."""


class IngestNotFound(IngestError, LookupError):
    """An id given (a product) matches nothing in the store."""
