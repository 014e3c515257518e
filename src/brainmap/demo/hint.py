"""How the user's shell runs brainmap again, for the hints the demo prints.

After ``make run`` the shell has no activated virtual environment, so a bare ``brainmap`` may be
"command not found": the hint names the script that is running (or the one beside the running
Python) by a path the shell can use, relative to the current folder when it is inside it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

SCRIPT = "brainmap"


def brainmap_command(argv0: str, executable: str, search_path: str | None, cwd: Path) -> str:
    """The shell command that runs brainmap for a user in `cwd` whose ``PATH`` is
    `search_path`: ``brainmap`` when that finds the script running now (`argv0`, or the one
    beside the Python `executable`), else that script's path, e.g. ``.venv/bin/brainmap``."""
    running = Path(argv0)
    candidates = [running] if running.stem == SCRIPT else []
    candidates.append(Path(executable).parent / SCRIPT)
    for script in candidates:
        if script.is_file():
            found = shutil.which(SCRIPT, path=search_path)
            if found is not None and os.path.samefile(found, script):
                return SCRIPT
            return shlex.quote(_shell_path(script.absolute(), cwd))
    return SCRIPT


def current_command() -> str:
    """`brainmap_command` for this process."""
    return brainmap_command(sys.argv[0], sys.executable, os.environ.get("PATH"), Path.cwd())


def _shell_path(script: Path, cwd: Path) -> str:
    """`script` relative to `cwd` when inside it (with a ``/``, so the shell does not search
    ``PATH``), else absolute."""
    try:
        relative = script.relative_to(cwd.absolute())
    except ValueError:
        return str(script)
    text = str(relative)
    return text if os.sep in text else f".{os.sep}{text}"
