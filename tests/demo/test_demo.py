"""The main job end to end on a small-scale demo store, and the command line around it."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pyvips
from click.testing import CliRunner
from rich.console import Console

from brainmap.cli import main
from brainmap.demo.hint import brainmap_command
from brainmap.demo.job import run_demo


def test_demo_writes_every_workflow_and_a_contact_sheet(tmp_path: Path) -> None:
    console = Console(record=True, width=120)
    files = run_demo(tmp_path / "store", tmp_path / "out", console, scale=0.06)
    names = [path.name for path in files]
    assert names[-1] == "contact-sheet.png"
    assert sum(name.startswith("ish_") and name.endswith("_ds4.jpg") for name in names) >= 6
    for expected in (
        "_roi_",
        "_expression_ds4.jpg",
        "_projection_ds4.jpg",
        "_nissl_ds3.jpg",
        "_jet.jpg",
    ):
        assert any(expected in name for name in names), expected
    for path in files:
        image = pyvips.Image.new_from_file(str(path))
        assert image.width > 0 and image.bands == (4 if path.suffix == ".svg" else 3)
    text = console.export_text()
    assert "4 ISH data sets" in text
    assert "display ranges [0, 880, 0, 1010, 0, 4095]" in text
    assert "10 annotated plates" in text
    assert "IIIF level2: image" in text
    (iiif,) = [path for path in files if path.name.startswith("iiif_")]
    section = pyvips.Image.new_from_file(str(iiif))
    assert section.width == 480  # the middle half of the 960-pixel section at this scale
    registration_in_summary(text, files)
    hint = re.search(r"web viewer: (.+) serve --store (\S+), then open", text)
    assert hint is not None, text
    runs_as_printed([*shlex.split(hint[1]), "serve", "--help"])


def registration_in_summary(text: str, files: list[Path]) -> None:
    """The printout names a point's structure, a section warped and a plate's SVG drawing, and
    the files are there: the warped section on the 25 µm coronal grid, a drawing of paths."""
    flat = " ".join(text.split())
    assert "reference point (5,000, 4,200, 7,600) µm (p, i, r): Caudoputamen (CP)" in flat
    assert re.search(r"that pixel lies at \([\d,]+, [\d,]+, [\d,]+\) µm: Caudoputamen", flat)
    warped = re.search(r"warped to the 25 µm coronal grid \(320 x 456, i/r\)", flat)
    assert warped, flat
    assert re.search(r"tilted plane runs from p = [\d,]+ to [\d,]+ µm", flat)
    drawn = re.search(r"plate (\d+): SVG drawing of (\d+) structure outlines", flat)
    assert drawn is not None and int(drawn[2]) > 5
    by_name = {path.name: path for path in files}
    png = next(path for name, path in by_name.items() if name.endswith("_reference_25um.png"))
    warped_image = pyvips.Image.new_from_file(str(png))
    assert (warped_image.width, warped_image.height) == (456, 320)
    svg = by_name[f"atlas_{drawn[1]}.svg"].read_text()
    assert svg.count("<path") == int(drawn[2]) and "structure_id" in svg
    for what in ("section warped to the reference", "atlas plate, SVG drawing"):
        assert what in text


def runs_as_printed(command: list[str], path: str | None = None) -> None:
    """`command` works from this folder in a shell with `path` (default: this process's)."""
    env = {**os.environ, "PATH": path if path is not None else os.environ.get("PATH", "")}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--store" in done.stdout, done.stderr


def test_the_hint_names_a_command_a_shell_without_the_venv_can_run() -> None:
    script = Path(sys.executable).parent / "brainmap"
    bare = "/usr/bin:/bin"
    printed = brainmap_command("/usr/bin/pytest", sys.executable, bare, Path.cwd())
    assert printed != "brainmap" and Path(printed).name == "brainmap"
    runs_as_printed([printed, "serve", "--help"], path=bare)
    assert brainmap_command(str(script), "/elsewhere/python", str(script.parent), Path.cwd()) == (
        "brainmap"
    )
    inside = brainmap_command(str(script), sys.executable, bare, script.parent.parent)
    assert inside == "bin/brainmap"  # relative to the folder the user is in


def test_serve_refuses_a_folder_that_is_not_a_store(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--store", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert "not a brainmap store" in result.output
