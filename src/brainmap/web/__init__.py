"""The web viewer's assets: `static/` is built from the repository's `web/` folder at install
(npm + esbuild, see hatch_build.py) and is not under version control."""

from pathlib import Path

STATIC_DIR = Path(__file__).with_name("static")
"""The built page, its bundled script and stylesheet, and OpenSeadragon's button images."""
