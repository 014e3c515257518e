"""How a check ends when it does not pass: the server differs, or lacks what the check needs."""

from __future__ import annotations


class Difference(AssertionError):
    """The server answered otherwise than the fact or rule the check holds it to."""


class Skipped(Exception):
    """The server holds nothing the check could be run on (the reason says what is missing)."""


def expect(condition: bool, message: str) -> None:
    """Raise a Difference carrying `message` unless `condition` holds."""
    if not condition:
        raise Difference(message)


def expect_equal(actual: object, expected: object, what: str) -> None:
    """Raise a Difference naming `what` unless `actual == expected`."""
    expect(actual == expected, f"{what}: expected {expected!r}, got {actual!r}")


def require(condition: bool, missing: str) -> None:
    """Skip the check, saying what is `missing`, unless `condition` holds."""
    if not condition:
        raise Skipped(missing)
