"""docs/conformance.md lists every check with the basis and source the code gives it."""

from __future__ import annotations

from pathlib import Path

from brainmap.testing import checks

DOC = Path(__file__).resolve().parents[2] / "docs" / "conformance.md"


def test_every_check_has_its_row() -> None:
    rows = [line for line in DOC.read_text().splitlines() if line.startswith("| `")]
    expected = [f"| `{c.name}` | {c.basis.value} | {c.source} | " for c in checks()]
    assert [row[: len(prefix)] for row, prefix in zip(rows, expected, strict=True)] == expected
