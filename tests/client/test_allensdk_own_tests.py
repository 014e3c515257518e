"""allensdk 2.16.2's own unit tests of SynchronizationApi and SvgApi, run against brainmap's
classes with only their imports changed (the class from brainmap, ``mock`` -> ``unittest.mock``).

The test files are read from the allensdk installation of BRAINMAP_ALLENSDK_PYTHON (``make
test`` builds one in ``.venv-allensdk``), rewritten in a temporary folder and run by this
interpreter's pytest; nothing of them is kept in the project.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ALLENSDK_PYTHON = os.environ.get("BRAINMAP_ALLENSDK_PYTHON")

pytestmark = pytest.mark.skipif(
    not ALLENSDK_PYTHON, reason="set BRAINMAP_ALLENSDK_PYTHON to a Python with allensdk installed"
)

IMPORTS = (
    (
        re.compile(r"^from allensdk\.api\.queries\.\w+ import (\w+Api)$", re.M),
        r"from brainmap import \1",
    ),
    (re.compile(r"^from mock import ", re.M), "from unittest.mock import "),
)


def allensdk_tests() -> Path:
    """The folder of allensdk's API tests in the allensdk interpreter's installation."""
    assert ALLENSDK_PYTHON
    finder = (
        "import importlib.util; "
        "print(importlib.util.find_spec('allensdk').submodule_search_locations[0])"
    )
    found = subprocess.run(
        [ALLENSDK_PYTHON, "-c", finder], capture_output=True, text=True, check=True, timeout=60
    )
    return Path(found.stdout.strip()) / "test" / "api"


@pytest.mark.parametrize(
    ("name", "tests"), [("test_synchronization_api.py", 6), ("test_svg_api.py", 3)]
)
def test_allensdk_own_tests_pass_on_brainmap(name: str, tests: int, tmp_path: Path) -> None:
    source = (allensdk_tests() / name).read_text()
    assert source.count("\ndef test_") == tests
    rewritten = source
    for pattern, replacement in IMPORTS:
        rewritten, count = pattern.subn(replacement, rewritten)
        assert count == 1, f"{name}: {pattern.pattern} matched {count} lines"
    changed = [
        (theirs, ours)
        for theirs, ours in zip(source.splitlines(), rewritten.splitlines(), strict=True)
        if theirs != ours
    ]
    assert len(changed) == 2 and all("import" in ours for _, ours in changed)
    assert "allensdk" not in "".join(line for line in rewritten.splitlines() if "import" in line)
    (tmp_path / name).write_text(rewritten)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert f"{tests} passed" in run.stdout
