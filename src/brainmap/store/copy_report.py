"""What `brainmap store copy` tells as it goes (`Progress`) and at its end (`CopyReport`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class Progress(Protocol):
    """What a copy tells as it goes (the CLI draws bars from it)."""

    def table(self, name: str, rows: int) -> None:
        """`rows` more rows of table `name` were looked at."""

    def files(self, count: int) -> None:
        """The copy of `count` files and reference volumes begins."""

    def file(self, name: str, size: int) -> None:
        """File or volume `name`, of `size` bytes, is done (copied, skipped or failed)."""


@dataclass
class CopyReport:
    """What a copy did: rows copied and already there by table, files and bytes copied and
    skipped (already at the destination, identical), and one line a problem found."""

    copied_rows: dict[str, int] = field(default_factory=dict)
    present_rows: dict[str, int] = field(default_factory=dict)
    files_copied: int = 0
    bytes_copied: int = 0
    files_skipped: int = 0
    bytes_skipped: int = 0
    problems: list[str] = field(default_factory=list)

    def copied(self, sizes: list[int]) -> None:
        """Files of `sizes` bytes were copied and verified."""
        self.files_copied += len(sizes)
        self.bytes_copied += sum(sizes)

    def skipped(self, sizes: list[int]) -> None:
        """Files of `sizes` bytes were at the destination already, identical."""
        self.files_skipped += len(sizes)
        self.bytes_skipped += sum(sizes)
