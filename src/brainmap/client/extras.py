"""Optional dependencies, imported when first needed, with a message naming the extra to
install when they are missing."""

from __future__ import annotations

import importlib
from types import ModuleType


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message says which extra brings it."""


def import_extra(module: str, extra: str, purpose: str) -> ModuleType:
    """Import `module`, or raise MissingExtra: ``<purpose>: pip install 'brainmap[<extra>]'``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"{purpose}: pip install 'brainmap[{extra}]'") from None
