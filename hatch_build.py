"""Hatchling build hook: the web viewer, built from web/ into src/brainmap/web/static/.

With npm on the PATH, `npm ci` (exactly the committed lockfile, from the npm registry) and
`npm run build` run in web/ before the wheel's files are collected, so the built assets ship in
wheels and serve editable installs in place. Without npm the install goes on without them:
the client and the API work, and the server's `/` says how to build the viewer.
BRAINMAP_SKIP_WEB_BUILD=1 skips the build on purpose (say, offline with npm installed) and
keeps whatever was built before.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SKIP_ENV = "BRAINMAP_SKIP_WEB_BUILD"
BUILT_PAGE = Path("src/brainmap/web/static/index.html")


class WebViewerBuildHook(BuildHookInterface):
    """Builds the viewer's assets when it can; says why when it does not."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        web = Path(self.root) / "web"
        npm = shutil.which("npm")
        if os.environ.get(SKIP_ENV):
            reason = f"{SKIP_ENV} is set"
        elif not (web / "package.json").is_file():
            reason = "this source tree has no web/ folder"
        elif npm is None:
            reason = "npm is not on the PATH (install Node.js and npm, then reinstall)"
        else:
            self._build(npm, web)
            return
        if (Path(self.root) / BUILT_PAGE).is_file():
            self.app.display_info(f"web viewer not rebuilt: {reason}; keeping the earlier build")
        else:
            self.app.display_warning(f"web viewer not built: {reason}; the server's / says so")

    def _build(self, npm: str, web: Path) -> None:
        for arguments in (["ci", "--no-audit", "--no-fund"], ["run", "build"]):
            self.app.display_info(f"web viewer: npm {' '.join(arguments)}")
            try:
                subprocess.run([npm, *arguments], cwd=web, check=True)
            except subprocess.CalledProcessError as error:
                raise RuntimeError(
                    f"web viewer: `npm {' '.join(arguments)}` failed (exit {error.returncode}) "
                    f"in {web}; fix the cause above, or set {SKIP_ENV}=1 to install without "
                    "building the viewer"
                ) from None
